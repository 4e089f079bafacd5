import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.utils import timezone

from knowledge import services
from knowledge.models import Article, KnowledgeSource

pytestmark = pytest.mark.django_db

PAGES = {
    "/docs/earbuds": b"<html><head><title>Pulse Buds user guide</title></head><body><nav>Menu</nav><main>"
                     b"<h1>Pairing</h1><p>Hold the case button for 5 seconds.</p><script>alert(1)</script>"
                     b"<p>Choose Pulse Buds in Bluetooth settings.</p></main></body></html>",
    "/docs/router": b"<html><head><title>NetMax manual</title></head><body><article><p>Error E-1042 means the "
                    b"update failed.</p></article></body></html>",
    "/docs/old": b"<html><head><title>Old page</title></head><body><p>Discontinued.</p></body></html>",
}


class Site(BaseHTTPRequestHandler):
    today = ""

    def do_GET(self):
        if self.path == "/sitemap.xml":
            urls = "".join(
                f"<url><loc>http://{self.headers['Host']}{path}</loc>"
                f"<lastmod>{'2019-01-01' if path == '/docs/old' else type(self).today}</lastmod></url>"
                for path in [*PAGES, "/docs/missing"]
            )
            body = f'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>'
            self._send(200, body.encode())
        elif self.path in PAGES:
            self._send(200, PAGES[self.path])
        else:
            self._send(404, b"not found")

    def _send(self, status, body):
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def site():
    Site.today = timezone.now().date().isoformat()
    server = ThreadingHTTPServer(("127.0.0.1", 0), Site)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


def test_crawl_ingests_recent_pages_reports_failures_and_is_idempotent(site, manager):
    source = KnowledgeSource.objects.create(name="Docs", sitemap_url=f"{site}/sitemap.xml", product="Docs",
                                            lookback_days=30)

    report = services.source_crawl(source=source, actor=manager)

    assert (report.created, report.skipped_old) == (2, 1)
    assert [failure["url"] for failure in report.failures] == [f"{site}/docs/missing"]
    earbuds = Article.objects.get(external_id=f"{site}/docs/earbuds")
    assert earbuds.title == "Pulse Buds user guide" and earbuds.status == "published"
    assert "Menu" not in earbuds.body and "alert" not in earbuds.body and "5 seconds" in earbuds.body
    assert services.search("E-1042", user=manager)[0].article.external_id == f"{site}/docs/router"
    source.refresh_from_db()
    assert source.last_report["created"] == 2 and source.last_crawled_at is not None

    again = services.source_crawl(source=source, actor=manager)
    assert (again.created, again.unchanged) == (0, 2)


def test_an_unreachable_sitemap_is_reported(manager):
    source = KnowledgeSource.objects.create(name="Gone", sitemap_url="http://127.0.0.1:9/sitemap.xml")
    report = services.source_crawl(source=source, actor=manager)
    assert report.pages == 0 and report.failures[0]["url"].endswith("/sitemap.xml")
