"""geomcheck scan on a real Dask LocalCluster (2 worker processes, shared by the module).

A worker process killed mid-scan loses nothing (the scheduler reruns its task;
the final dataset equals an undisturbed run's), an interrupted Dask run resumed
gives the same dataset, each worker loads a layer's model once, and a Dask
run equals the in-process run row for row.
"""

from __future__ import annotations

import os
import signal

import pytest

pytest.importorskip("pyarrow")
distributed = pytest.importorskip("distributed")

from geomcheck.studies import scan as scan_module  # noqa: E402
from geomcheck.studies import store  # noqa: E402
from geomcheck.studies.scan import ScanConfig, run_scan  # noqa: E402
from geomcheck.verdicts import PROVED  # noqa: E402

RANDOM = "toy:random?d=6&n=16&seed={layer}"


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
    client = distributed.Client(cluster)
    yield client
    client.close()
    cluster.close()


def _config(out, **kw) -> ScanConfig:
    base = dict(model=RANDOM, layers="0-1", directions="random:5", bases="random:4@1",
                paths=("rays", "superposition"), out=str(out), exact="sample:2", chunk=4)
    base.update(kw)
    return ScanConfig(**base)


def _rows(directory):
    return store.read_scan(directory).to_pylist()


def _without_floats(rows):
    """Rows with float columns rounded: BLAS in another process may differ in the last bit."""
    return [{k: (round(v, 9) if isinstance(v, float) else v) for k, v in r.items()} for r in rows]


def test_dask_run_equals_in_process_run(client, tmp_path):
    report = run_scan(_config(tmp_path / "dask"), client=client)
    run_scan(_config(tmp_path / "local", workers=0))
    assert report.partitions["computed"] == report.partitions["total"] == 2 * (2 + 5)
    dask_rows = _rows(tmp_path / "dask")
    assert _without_floats(dask_rows) == _without_floats(_rows(tmp_path / "local"))
    assert sum(r["status"] == PROVED for r in dask_rows) == 2 * 2 * 2


def test_each_worker_loads_a_layer_once(client, tmp_path):
    client.run(lambda: scan_module._BLOCKS.clear())
    run_scan(_config(tmp_path / "s"), client=client)
    loaded = client.run(lambda: sorted(spec for spec, _ in scan_module._BLOCKS))
    # a worker holds each layer it worked on once, whatever number of tasks it ran for it
    for specs in loaded.values():
        assert len(specs) == len(set(specs)) <= 2
    assert set().union(*map(set, loaded.values())) == {"toy:random?d=6&n=16&seed=0", "toy:random?d=6&n=16&seed=1"}


def test_killed_worker_loses_no_rows(client, tmp_path):
    run_scan(_config(tmp_path / "ref"), client=client)
    reference = _rows(tmp_path / "ref")
    pids = client.run(os.getpid)
    killed = {}

    def kill_one(task, how):
        if killed or how != "computed":
            return
        busy = {addr: keys for addr, keys in client.processing().items() if keys and addr in pids}
        if not busy:
            return
        addr = sorted(busy)[0]
        killed[addr] = list(busy[addr])
        os.kill(pids[addr], signal.SIGKILL)

    # each task waits 0.3 s first, so the workers are busy when the first result arrives
    report = run_scan(_config(tmp_path / "s", delay=0.3), client=client, on_partition=kill_one)
    assert killed, "no worker was busy when the first partition arrived"
    assert all(killed.values())  # the killed worker was running (or holding) at least one task
    assert report.partitions["computed"] == report.partitions["total"]
    assert _rows(tmp_path / "s") == reference
    client.wait_for_workers(2, timeout=60)  # the nanny restarts it for the next test
    assert pids[next(iter(killed))] not in client.run(os.getpid).values()


def test_interrupted_dask_run_resumed(client, tmp_path):
    run_scan(_config(tmp_path / "ref"), client=client)
    reference = _rows(tmp_path / "ref")
    done = []

    def interrupt(task, how):
        done.append(task)
        if len(done) == 4:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_scan(_config(tmp_path / "s", delay=0.05), client=client, on_partition=interrupt)
    written = len(list((tmp_path / "s").glob("layer=*/*.parquet")))
    assert 4 <= written < 14
    resumed = run_scan(_config(tmp_path / "s"), client=client)
    assert resumed.partitions["skipped"] == written
    assert resumed.partitions["computed"] == 14 - written
    assert _rows(tmp_path / "s") == reference


def test_worker_with_other_weights_refuses(client, tmp_path):
    from geomcheck.errors import InvalidInput
    from geomcheck.io.modelfile import dump_model
    from geomcheck.io.resolve import load_model
    from geomcheck.studies.scan import plan_scan

    model = tmp_path / "m.json"
    model.write_text(dump_model(load_model("toy:random?d=6&n=16&seed=0")))
    config = ScanConfig(model=str(model), directions="random:3", paths=("rays",), out=str(tmp_path / "s"))
    task = plan_scan(config).tasks[0]
    model.write_text(dump_model(load_model("toy:random?d=6&n=16&seed=1")))  # changed behind the driver's back
    with pytest.raises(InvalidInput, match="different weights"):
        client.submit(scan_module.run_partition, task, pure=False).result()
