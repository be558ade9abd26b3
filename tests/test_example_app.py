"""The example app the README launches answers the `curl` line `launch` prints for it:
the path proxy's root, which is the app's `/` (it had no such route: 404)."""

from __future__ import annotations

import trio

from .conftest import Service, auth, example_files


async def test_the_example_answers_the_printed_curl_line(service: Service) -> None:
    with trio.fail_after(60):
        gid = await service.upload(example_files())
        launched = await service.launch(gid)
        body = launched.json()
        assert body["status"] == "running", body.get("errorMessage")
        # What launch's curl line calls: the path proxy's root, with both tokens.
        answer = await service.client.get(
            f"/api/generations/{gid}/preview/proxy/",
            headers={**auth(), "X-Preview-Token": body["previewToken"]},
        )
        assert answer.status_code == 200, answer.text
        assert answer.json()["message"] == "Hello from your preview"
        assert (await service.stop(gid)).status_code == 200
