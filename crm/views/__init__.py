"""HTML and htmx interface of the agent workspace: thin views over ``crm.services`` and ``crm.selectors``."""
