"""Small, fast settings shared by the tests."""

import pytest

# Small level sets and short CoinRun episodes keep the suite quick.
GAMES = {
    "coinrun": {"game": "coinrun", "num_levels": 20, "max_steps": 60},
    "multiroom": {"game": "multiroom", "num_levels": 20},
}


@pytest.fixture(params=sorted(GAMES))
def game_kwargs(request):
    return dict(GAMES[request.param])
