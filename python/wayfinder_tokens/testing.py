"""Test helpers: an embedded Wayfinder emulator on loopback.

with Emulator(users=["alice:secret@dev"]) as emulator:
    client = Client(server=emulator.url, token=emulator.admin_token, workspace="dev")
"""

from wayfinder_tokens._native import Emulator

__all__ = ["Emulator"]
