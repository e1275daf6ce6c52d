"""A GeoReport v2 client nobody on the team wrote, against the desk served by uvicorn on a
free port: the `georeport` package from PyPI (0.3.1) lists services, reads a service
definition, and finds a request a civic app filed, in JSON and in XML.

`georeport` has no POST: the request is filed with `requests`, as a civic app would. The
other client the issue names, `three` (0.8.0, 2013, the newest on PyPI), does not import on
Python 3: `from itertools import ifilter` raises ImportError in `three/core.py`, so it is not
tested (nor installed).
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import requests
import uvicorn
from georeport import GeoReport
from sqlalchemy import Engine

from sevadesk.config import Settings
from sevadesk.domain.clock import FrozenClock
from sevadesk.store.clients_repo import issue_open311_key
from sevadesk.web.app import create_app
from tests.channels.georeport_schemas import request_list_problems, service_list_problems


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def server(org_engine: Engine, settings: Settings, clock: FrozenClock) -> Iterator[str]:
    port = _free_port()
    config = uvicorn.Config(
        create_app(settings, org_engine, clock), host="127.0.0.1", port=port, log_level="warning"
    )
    running = uvicorn.Server(config)
    thread = threading.Thread(target=running.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not running.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    running.should_exit = True
    thread.join(10)


@pytest.mark.parametrize("output_format", ["json", "xml"])
def test_the_georeport_client_files_nothing_but_reads_everything(
    server: str, org_engine: Engine, output_format: str
) -> None:
    with org_engine.begin() as conn:
        key = issue_open311_key(conn, "lucknow-civic-app", datetime.now(UTC))
    discovered = requests.get(f"{server}/open311/discovery.json", timeout=10).json()
    endpoint = discovered["endpoints"][0]["url"]
    assert endpoint == f"{server}/open311/v2"
    filed = requests.post(
        f"{endpoint}/requests.json",
        params={"api_key": key},
        data={
            "service_code": "theft",
            "description": "My mobile phone was snatched near Hazratganj crossing",
            "lat": "26.8467",
            "long": "80.9462",
            "address_string": "Hazratganj crossing, Lucknow 226001",
        },
        timeout=30,
    )
    assert filed.status_code == 201, filed.text
    ref = filed.json()[0]["service_request_id"]

    client = GeoReport(endpoint, api_key=key, output_format=output_format)
    services = client.get_service_list()
    codes = [s["service_code"] for s in services]
    assert "theft" in codes and "other" in codes
    if output_format == "json":
        assert service_list_problems(services) == []
    assert client.get_service_definition("theft")["service_code"] == "theft"

    one = client.get_service_request(ref)
    assert one["service_request_id"] == ref and one["status"] == "open"
    assert float(one["lat"]) == 26.8467 and one["zipcode"] == "226001"
    # The XML answer of a one-item list is the item itself (xmltodict): ask for two codes.
    listed = client.get_service_requests(service_code="theft,robbery", status="open")
    listed = listed if isinstance(listed, list) else [listed]
    assert [r["service_request_id"] for r in listed] == [ref]
    if output_format == "json":
        assert request_list_problems(listed) == []
    by_id = client.get_service_requests(service_request_id=f"{ref},UPP-999999")
    by_id = by_id if isinstance(by_id, list) else [by_id]
    assert [r["service_request_id"] for r in by_id] == [ref]
    with pytest.raises(requests.HTTPError) as refused:
        client.get_service_request("UPP-999999")
    assert refused.value.response.status_code == 404
