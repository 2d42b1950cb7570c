from bot.chat.breaker import Breaker


def test_opens_on_failure_and_probes_after_cooling_off() -> None:
    now = [100.0]
    breaker = Breaker(cool_off=10, clock=lambda: now[0])
    assert breaker.allows()
    breaker.failure()
    assert not breaker.allows()
    now[0] += 9.9
    assert not breaker.allows()
    now[0] += 0.2
    assert breaker.allows()
    breaker.success()
    assert breaker.allows()
