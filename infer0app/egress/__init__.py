"""Outbound requests go through one door (DESIGN.md §3.12).

- `policy`     which destinations may be connected to (pure: addresses, the allow-list)
- `connector`  the aiohttp connector that asks the policy on the resolved address at
               connect time, and `DestinationRefused`, the one error a refusal raises
"""
