"""Write the small example files of the README's "Your own data" walk-through.

    python examples/make_students.py

``students.csv``: 200 made-up students, three features on different scales
(hours studied, hours slept, attendance in percent) and the result, "pass" or
"fail", drawn from a logistic model with noise. ``students_new.csv``: 6 more
students, without a result, with the columns in another order and an ``id``.
"""

from pathlib import Path

import numpy as np

HERE = Path(__file__).parent


def students(n: int, rng: np.random.Generator):
    studied = rng.uniform(0, 12, n).round(1)
    slept = rng.uniform(4, 9, n).round(1)
    attendance = rng.integers(35, 101, n)
    z = 0.8 * (studied - 6) + 0.5 * (slept - 6.5) + 0.06 * (attendance - 70)
    passed = rng.random(n) < 1 / (1 + np.exp(-z))
    return studied, slept, attendance, np.where(passed, "pass", "fail")


def main():
    rng = np.random.default_rng(2024)
    studied, slept, attendance, result = students(200, rng)
    rows = [f"{a},{b},{c},{r}" for a, b, c, r in zip(studied, slept, attendance, result)]
    (HERE / "students.csv").write_text(
        "hours_studied,hours_slept,attendance,result\n" + "\n".join(rows) + "\n")
    studied, slept, attendance, _ = students(6, rng)
    rows = [f"{i},{c},{a},{b}" for i, (a, b, c) in enumerate(zip(studied, slept, attendance), 1)]
    (HERE / "students_new.csv").write_text(
        "id,attendance,hours_studied,hours_slept\n" + "\n".join(rows) + "\n")


if __name__ == "__main__":
    main()
