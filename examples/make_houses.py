"""Write the example files of the README's regression walk-through.

    python examples/make_houses.py

``houses.csv``: 300 made-up houses, three features on different scales (floor
area in square metres, rooms, age in years) and the price in euros, a linear
function of them plus noise: ``price = 1500 area + 8000 rooms - 900 age +
50000 + e`` with ``e`` normal of standard deviation 15000. ``houses_new.csv``:
5 more houses, without a price, with the columns in another order and an ``id``.
"""

from pathlib import Path

import numpy as np

HERE = Path(__file__).parent


def houses(n: int, rng: np.random.Generator):
    area = rng.uniform(40, 200, n).round(1)
    rooms = rng.integers(1, 7, n)
    age = rng.integers(0, 80, n)
    price = 1500 * area + 8000 * rooms - 900 * age + 50000 + rng.normal(0, 15000, n)
    return area, rooms, age, price.round(-2)


def main():
    rng = np.random.default_rng(2026)
    area, rooms, age, price = houses(300, rng)
    rows = [f"{a},{r},{g},{p:.0f}" for a, r, g, p in zip(area, rooms, age, price)]
    (HERE / "houses.csv").write_text("area,rooms,age,price\n" + "\n".join(rows) + "\n")
    area, rooms, age, _ = houses(5, rng)
    rows = [f"{i},{g},{a},{r}" for i, (a, r, g) in enumerate(zip(area, rooms, age), 1)]
    (HERE / "houses_new.csv").write_text("id,age,area,rooms\n" + "\n".join(rows) + "\n")


if __name__ == "__main__":
    main()
