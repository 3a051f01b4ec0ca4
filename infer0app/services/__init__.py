"""Domain logic shared by the server, the CLI and the TUI. No aiohttp, no Textual here."""
