"""`infer0 admin`: the operator's terminal UI (Textual), built by `make_admin_app(settings)`.

It opens the same database and keyring as the running server and calls the same
`infer0app.services`; blocking work runs in thread workers that post messages back.
"""
