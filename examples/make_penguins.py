"""Write the example files of the README's penguins walk-through.

    python examples/make_penguins.py      (needs palmerpenguins, part of the test extra)

``penguins.csv``: the Palmer penguins table as the ``palmerpenguins`` package ships it
(344 penguins; ``species``, ``island`` and ``sex`` are text; 19 missing values; the data
are CC0). ``penguins_new.csv``: four penguins to predict, without ``sex``: one from an
island the table does not have, one with a missing bill length.
"""

from pathlib import Path

from palmerpenguins import load_penguins

HERE = Path(__file__).parent

NEW = """id,species,island,bill_length_mm,bill_depth_mm,flipper_length_mm,body_mass_g,year
1,Adelie,Torgersen,41.1,19.0,192,4200,2009
2,Gentoo,Biscoe,44.9,13.8,212,4750,2009
3,Chinstrap,Anvers,50.5,19.6,201,4050,2009
4,Adelie,Dream,,17.5,186,3300,2009
"""


def main():
    load_penguins().to_csv(HERE / "penguins.csv", index=False)
    (HERE / "penguins_new.csv").write_text(NEW)


if __name__ == "__main__":
    main()
