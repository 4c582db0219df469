"""`collector.paused`: the cycle collector off in the block, as it was after it (#15)."""

import gc

import pytest

from renewals.core.collector import paused


@pytest.fixture(autouse=True)
def _collector_back_on():
    was = gc.isenabled()
    yield
    gc.enable() if was else gc.disable()


def test_the_collector_is_off_in_the_block_and_on_again_after_it_also_on_an_error():
    gc.enable()
    with paused():
        assert not gc.isenabled()
    assert gc.isenabled()
    with pytest.raises(ZeroDivisionError), paused():
        1 / 0  # noqa: B018
    assert gc.isenabled()


def test_a_collector_already_off_stays_off_and_blocks_nest():
    gc.disable()
    with paused():
        assert not gc.isenabled()
    assert not gc.isenabled()
    gc.enable()
    with paused(), paused():
        assert not gc.isenabled()
    assert gc.isenabled()

    @paused()
    def work():
        return gc.isenabled()

    assert work() is False
    assert gc.isenabled()
