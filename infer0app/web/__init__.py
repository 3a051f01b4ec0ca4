"""HTML pages: thin handlers over services, plus session, CSRF and security-header middlewares."""
