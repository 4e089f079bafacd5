/* Routing in the agent workspace: offer countdowns, dismissing finished offers and consults.
   Offers arrive as out-of-band fragments over the agent socket; accept/decline are htmx posts. */
(function () {
  "use strict";
  function countdown() {
    var now = Date.now();
    document.querySelectorAll("[data-countdown]").forEach(function (el) {
      var left = Math.max(0, Math.round((Date.parse(el.dataset.countdown) - now) / 1000));
      el.textContent = left + "s";
      var offer = el.closest(".offer");
      if (offer) offer.classList.toggle("offer-expiring", left <= 10);
    });
  }
  window.setInterval(countdown, 1000);
  document.addEventListener("DOMContentLoaded", countdown);
  document.body && document.body.addEventListener("htmx:load", countdown);

  // Accept and Pick post on behalf of the workspace itself: the button may be gone (the socket
  // removes an answered offer, a refresh replaces the list) before the answer, whose
  // HX-Trigger opens the session — events from a detached button would reach no one.
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-post]");
    if (!button) return;
    button.disabled = true;
    var source = document.getElementById("workspace") || document.body;
    htmx.ajax("POST", button.dataset.post, { source: source, target: button.dataset.postTarget, swap: "outerHTML" });
  });

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-dismiss]");
    if (!button) return;
    var box = document.getElementById(button.dataset.dismiss);
    if (box) box.remove();
  });

  // A new offer takes the focus to its Accept button, so the keyboard can answer it at once.
  document.addEventListener("htmx:oobAfterSwap", function (event) {
    var target = event.detail.target;
    if (!target || target.id !== "offers") return;
    var offers = target.querySelectorAll(".offer[role=alertdialog]");
    var newest = offers[offers.length - 1];
    var accept = newest && newest.querySelector(".btn-primary");
    if (accept && !document.activeElement.closest("form.composer")) accept.focus();
  });
})();
