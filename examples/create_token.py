"""Create a workspace access token, reset it, grant it a role, and print the
lines a CI needs.

Settings come from WAYFINDER_SERVER + WAYFINDER_TOKEN (+ WAYFINDER_WORKSPACE),
else from the wf CLI's config file. `make demo` runs this against the embedded
emulator.
"""

import asyncio

import wayfinder_tokens as wft


async def main() -> None:
    async with wft.AsyncClient.from_env() as wf:
        issued = await wf.create_workspace_access_token("ci-deploy", description="My deployment token")
        print(f"python: created {issued.name!r} in workspace {issued.workspace!r}")
        issued = await wf.reset_workspace_access_token("ci-deploy")
        print("python: reset it; the first secret no longer works")
        roles = await wf.assign_wayfinder_role("ci-deploy", "workspace.accesstokenmanager")
        print(f"python: granted {roles.wayfinder_roles}")
        print(issued.to_export(), end="")


if __name__ == "__main__":
    asyncio.run(main())
