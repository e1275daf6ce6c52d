"""Write src/sevadesk/demo/org.yaml: the demo deployment (Railways, UP Police, Passport Seva).

Run from the repository root with ../shared/data beside it:
    python scripts/build_demo_org.py

UP Police: 8 zones → 18 ranges → 75 districts. The ranges follow UP's 18 revenue divisions
and the zones group them as UP Police's public organisation chart does (uppolice.gov.in,
"Zones and Ranges"); written by the team from those public listings, to be checked against
the current notification before production use. District PIN codes come from the India Post
directory in ../shared/data/india-pincode-directory (Government Open Data Licence – India):
each PIN goes to the district with most of its post offices.
"""

from __future__ import annotations

import collections
import csv
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"

# range → districts (PIN-directory spelling)
UP_RANGES: dict[str, list[str]] = {
    "Agra": ["AGRA", "FIROZABAD", "MAINPURI", "MATHURA"],
    "Aligarh": ["ALIGARH", "ETAH", "HATHRAS", "KASGANJ"],
    "Ayodhya": ["AMBEDKAR NAGAR", "AMETHI", "AYODHYA", "BARABANKI", "SULTANPUR"],
    "Azamgarh": ["AZAMGARH", "BALLIA", "MAU"],
    "Bareilly": ["BUDAUN", "BAREILLY", "PILIBHIT", "SHAHJAHANPUR"],
    "Basti": ["BASTI", "SANT KABEER NAGAR", "SIDDHARTH NAGAR"],
    "Chitrakoot Dham": ["BANDA", "CHITRAKOOT", "HAMIRPUR", "MAHOBA"],
    "Devipatan": ["BAHRAICH", "BALRAMPUR", "GONDA", "SHRAVASTI"],
    "Gorakhpur": ["DEORIA", "GORAKHPUR", "KUSHI NAGAR", "MAHARAJGANJ"],
    "Jhansi": ["JALAUN", "JHANSI", "LALITPUR"],
    "Kanpur": ["AURAIYA", "ETAWAH", "FARRUKHABAD", "KANNAUJ", "KANPUR DEHAT", "KANPUR NAGAR"],
    "Lucknow": ["HARDOI", "KHERI", "LUCKNOW", "RAE BARELI", "SITAPUR", "UNNAO"],
    "Meerut": ["BAGHPAT", "BULANDSHAHR", "GAUTAM BUDDHA NAGAR", "GHAZIABAD", "HAPUR", "MEERUT"],
    "Mirzapur": ["BHADOHI", "MIRZAPUR", "SONBHADRA"],
    "Moradabad": ["AMROHA", "BIJNOR", "MORADABAD", "RAMPUR", "SAMBHAL"],
    "Prayagraj": ["FATEHPUR", "KAUSHAMBI", "PRATAPGARH", "PRAYAGRAJ"],
    "Saharanpur": ["MUZAFFARNAGAR", "SAHARANPUR", "SHAMLI"],
    "Varanasi": ["CHANDAULI", "GHAZIPUR", "JAUNPUR", "VARANASI"],
}
UP_ZONES: dict[str, list[str]] = {
    "Agra": ["Agra", "Aligarh"],
    "Bareilly": ["Bareilly", "Moradabad"],
    "Gorakhpur": ["Gorakhpur", "Basti", "Devipatan"],
    "Kanpur": ["Kanpur", "Jhansi"],
    "Lucknow": ["Lucknow", "Ayodhya"],
    "Meerut": ["Meerut", "Saharanpur"],
    "Prayagraj": ["Prayagraj", "Chitrakoot Dham"],
    "Varanasi": ["Varanasi", "Azamgarh", "Mirzapur"],
}
# Police commissionerates (the rest are districts under an SP/SSP).
COMMISSIONERATES = {
    "LUCKNOW",
    "KANPUR NAGAR",
    "VARANASI",
    "GAUTAM BUDDHA NAGAR",
    "GHAZIABAD",
    "PRAYAGRAJ",
    "AGRA",
}
# Other spellings citizens use, routed to the same district.
ALIASES = {
    "GAUTAM BUDDHA NAGAR": ["noida", "greater noida", "gautam buddh nagar"],
    "PRAYAGRAJ": ["allahabad"],
    "AYODHYA": ["faizabad"],
    "KANPUR NAGAR": ["kanpur"],
    "KHERI": ["lakhimpur kheri", "lakhimpur"],
    "RAE BARELI": ["raebareli", "rae bareli"],
    "BHADOHI": ["sant ravidas nagar"],
    "KUSHI NAGAR": ["kushinagar"],
    "SANT KABEER NAGAR": ["sant kabir nagar"],
    "SIDDHARTH NAGAR": ["siddharthnagar"],
    "BUDAUN": ["badaun"],
    "LUCKNOW": ["लखनऊ"],
    "VARANASI": ["banaras", "benares", "वाराणसी"],
}
DISTRICT_HANDLES = {"GAUTAM BUDDHA NAGAR": ["noidapolice"], "GHAZIABAD": ["ghaziabadpolice"]}

RAIL_ZONES = [
    (
        "NR",
        "Northern Railway",
        "RailwayNorthern",
        [
            ("DLI", "Delhi division", [], ["NDLS", "DLI", "NZM", "ANVT", "DEE", "DSA"]),
            ("LKO", "Lucknow division (NR)", [], ["LKO", "BBK", "AY", "RBL", "SLN", "PBH"]),
            ("MB", "Moradabad division", [], ["MB", "BE", "RMU", "HW", "DDN"]),
        ],
    ),
    (
        "NER",
        "North Eastern Railway",
        "NERailwayGKP",
        [
            ("LJN", "Lucknow division (NER)", [], ["LJN", "GD", "BST", "KGM"]),
            ("GKP", "Gorakhpur HQ area", [], ["GKP", "DEOS"]),
        ],
    ),
    (
        "NCR",
        "North Central Railway",
        "CPRONCR",
        [
            ("PRYJ", "Prayagraj division", [], ["PRYJ", "ALD", "CNB", "ETW", "MZP", "FTP"]),
            ("JHS", "Jhansi division", [], ["VGLJ", "JHS", "GWL", "BNDA"]),
            ("AGC", "Agra division", [], ["AGC", "MTJ", "AF", "TDL"]),
        ],
    ),
    (
        "ECR",
        "East Central Railway",
        "ECRlyHJP",
        [
            ("DDU", "Pt. Deen Dayal Upadhyaya division", [], ["DDU", "BXR", "SSM"]),
            ("DNR", "Danapur division", [], ["PNBE", "DNR", "ARA"]),
        ],
    ),
    (
        "ECoR",
        "East Coast Railway",
        "EastCoastRail",
        [
            ("KUR", "Khurda Road division", ["DRMKhurdaRoad"], ["KUR", "BBS", "PURI", "CTC"]),
            ("SBP", "Sambalpur division", ["DRMSambalpur"], ["SBP", "TIG"]),
        ],
    ),
    (
        "SCoR",
        "South Coast Railway",
        "SCoRailway",
        [
            ("WAT", "Waltair division", ["DRMWaltairECoR"], ["VSKP", "DVD", "VZM"]),
        ],
    ),
    (
        "CR",
        "Central Railway",
        "Central_Railway",
        [
            ("BB", "Mumbai division (CR)", [], ["CSMT", "LTT", "DR", "TNA", "KYN"]),
            ("PUNE", "Pune division", [], ["PUNE", "LNL"]),
        ],
    ),
    (
        "WR",
        "Western Railway",
        "WesternRly",
        [
            ("BCT", "Mumbai Central division", [], ["MMCT", "BDTS", "BVI", "ST"]),
        ],
    ),
    (
        "WCR",
        "West Central Railway",
        "wc_railway",
        [
            ("KOTA", "Kota division", ["DRMKota"], ["KOTA", "SWM", "BTE", "RMA"]),
            ("BPL", "Bhopal division", [], ["BPL", "RKMP", "ET"]),
        ],
    ),
    (
        "SR",
        "Southern Railway",
        "GMSRailway",
        [("MAS", "Chennai division", [], ["MAS", "MS", "TBM"])],
    ),
    (
        "SCR",
        "South Central Railway",
        "SCRailwayIndia",
        [("SC", "Secunderabad division", [], ["SC", "KCG"])],
    ),
    (
        "SER",
        "South Eastern Railway",
        "serailwaykol",
        [("KGP", "Kharagpur division", [], ["KGP", "SRC"])],
    ),
    ("ER", "Eastern Railway", "EasternRailway", [("HWH", "Howrah division", [], ["HWH", "BDC"])]),
]


def slug(name: str) -> str:
    return name.upper().replace(" ", "-").replace(".", "")


def district_pins() -> dict[str, list[str]]:
    counts: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    path = DATA / "india-pincode-directory" / "india_post_offices_geo_2025-10-03.csv"
    with path.open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            counts[row["pincode"]][(row["state"], row["district"])] += 1
    pins: dict[str, list[str]] = collections.defaultdict(list)
    for pin, by_district in counts.items():
        (state, district), _ = by_district.most_common(1)[0]
        if state == "UTTAR PRADESH" and district:
            pins[district].append(pin)
    return {d: sorted(p) for d, p in pins.items()}


DEMO_POSTS = {
    "LUCKNOW": {
        "assignment": "round_robin",
        "positions": [
            {
                "code": "LKO-CONTROL-ROOM",
                "name": "Lucknow control room (on duty)",
                "on_duty": True,
                "languages": ["en", "hi"],
            },
            {
                "code": "LKO-SHO-HAZRATGANJ",
                "name": "SHO Hazratganj",
                "languages": ["en", "hi"],
                "skills": ["theft", "harassment"],
            },
            {
                "code": "LKO-CYBER-CELL",
                "name": "Cyber cell Lucknow",
                "languages": ["en", "hi"],
                "skills": ["cyber_fraud"],
            },
        ],
    },
}


def police() -> dict:
    pins = district_pins()
    zones = []
    for zone, ranges in UP_ZONES.items():
        zone_children = []
        for rng in ranges:
            districts = []
            for d in UP_RANGES[rng]:
                districts.append(
                    {
                        "code": f"UPP-{slug(d)}",
                        "name": f"{d.title()} {'Police Commissionerate' if d in COMMISSIONERATES else 'District Police'}",
                        "kind": "commissionerate" if d in COMMISSIONERATES else "district",
                        "handles": DISTRICT_HANDLES.get(d, []),
                        "jurisdiction": {
                            "districts": [d.lower(), *ALIASES.get(d, [])],
                            "pins": pins.get(d, []),
                        },
                        **DEMO_POSTS.get(d, {}),
                    }
                )
            zone_children.append(
                {
                    "code": f"UPP-R-{slug(rng)}",
                    "name": f"{rng} Range",
                    "kind": "range",
                    "children": districts,
                }
            )
        zones.append(
            {
                "code": f"UPP-Z-{slug(zone)}",
                "name": f"{zone} Zone",
                "kind": "zone",
                "children": zone_children,
            }
        )
    return {
        "code": "UPP",
        "name": "Uttar Pradesh Police (control room)",
        "name_hi": "उत्तर प्रदेश पुलिस",
        "kind": "state_police",
        "ticket_prefix": "UPP",
        "handles": ["Uppolice", "112UttarPradesh"],
        "hashtags": ["UPPolice", "UP112"],
        "contact": {"phone": "112", "web": "https://uppolice.gov.in"},
        "children": zones,
    }


def railways() -> dict:
    zones = []
    for code, name, handle, divisions in RAIL_ZONES:
        zones.append(
            {
                "code": f"RLY-{code}",
                "name": name,
                "kind": "zone",
                "handles": [handle],
                "jurisdiction": {"zones": [code]},
                "children": [
                    {
                        "code": f"RLY-{code}-{d}",
                        "name": n,
                        "kind": "division",
                        "handles": h,
                        "jurisdiction": {"stations": s},
                    }
                    for d, n, h, s in divisions
                ],
            }
        )
    return {
        "code": "RLY",
        "name": "Ministry of Railways",
        "name_hi": "रेल मंत्रालय",
        "kind": "ministry",
        "ticket_prefix": "RLY",
        "handles": ["RailMinIndia", "RailwaySeva", "RailMadad"],
        "hashtags": ["RailMadad", "IndianRailways"],
        "contact": {"phone": "139", "web": "https://railmadad.indianrailways.gov.in"},
        "children": zones,
    }


def passport() -> dict:
    return {
        "code": "PSP",
        "name": "Passport Seva (Ministry of External Affairs)",
        "name_hi": "पासपोर्ट सेवा",
        "kind": "ministry",
        "ticket_prefix": "PSP",
        "handles": ["passportsevamea"],
        "hashtags": ["PassportSeva"],
        "contact": {"phone": "1800-258-1800", "web": "https://www.passportindia.gov.in"},
        "children": [
            {
                "code": "PSP-RPO-LKO",
                "name": "Regional Passport Office Lucknow",
                "kind": "regional_office",
                "handles": ["rpolucknow"],
                "jurisdiction": {
                    "districts": [
                        "lucknow",
                        "barabanki",
                        "unnao",
                        "sitapur",
                        "hardoi",
                        "rae bareli",
                    ]
                },
            },
            {
                "code": "PSP-RPO-GZB",
                "name": "Regional Passport Office Ghaziabad",
                "kind": "regional_office",
                "jurisdiction": {
                    "districts": [
                        "ghaziabad",
                        "meerut",
                        "gautam buddha nagar",
                        "noida",
                        "hapur",
                        "bulandshahr",
                    ]
                },
            },
            {
                "code": "PSP-RPO-DEL",
                "name": "Regional Passport Office Delhi",
                "kind": "regional_office",
                "handles": ["rpodelhi"],
                "jurisdiction": {"districts": ["new delhi", "delhi"]},
            },
        ],
    }


def main() -> int:
    org = {
        "units": [
            {
                "code": "SEVA",
                "name": "sevadesk demo deployment",
                "kind": "deployment",
                "ticket_prefix": "GEN",
                "default": True,
                "children": [railways(), police(), passport()],
            }
        ],
        # Central government offices: Monday to Friday; holidays from the DoPT list for 2026
        # (national holidays and the main gazetted ones; check the year's notification).
        "calendars": {
            "business": {
                "hours": "09:30-18:00",
                "days": ["mon", "tue", "wed", "thu", "fri"],
                "holidays": [
                    "2026-01-26",
                    "2026-03-04",
                    "2026-08-15",
                    "2026-10-02",
                    "2026-10-20",
                    "2026-11-08",
                    "2026-12-25",
                ],
                "timezone": "Asia/Kolkata",
            }
        },
        # Demo duty roster: the Lucknow desk holds every Lucknow post around the clock.
        "roster": [
            {"position": code, "user": "lucknow.police", "from": "2026-01-01T00:00:00+05:30"}
            for code in ("LKO-CONTROL-ROOM", "LKO-SHO-HAZRATGANJ", "LKO-CYBER-CELL")
        ],
        # Complaint hashtags citizens use instead of a handle (not #IndianRailways or
        # #UPPolice, which news and praise carry as often as complaints do).
        "triage": {"addressing_hashtags": ["RailMadad", "PassportSeva", "UP112"]},
        "routing_rules": [
            {
                "id": "railway-acknowledgement",
                "when": {
                    "handles": ["RailMinIndia", "RailwaySeva", "RailMadad"],
                    "kinds": ["grievance", "sos"],
                },
                "then": {"acknowledge": "ack"},
            },
            {
                "id": "women-safety",
                "when": {"categories": ["harassment"]},
                "then": {"priority": "p1", "labels": ["women-safety"]},
            },
        ],
        "sla_policies": [
            {"unit": "RLY", "urgency": "sos", "first_response": "15m", "resolution": "4h"},
            {"unit": "RLY", "first_response": "2h", "resolution": "2d"},
            {"unit": "UPP", "urgency": "sos", "first_response": "10m", "resolution": "2h"},
            {"unit": "UPP", "first_response": "1h", "resolution": "3d"},
            {"unit": "PSP", "first_response": "1d", "resolution": "7d", "calendar": "business"},
            {"unit": "SEVA", "first_response": "4h", "resolution": "3d"},
        ],
        "users": [
            {"username": "admin", "name": "Desk administrator", "role": "admin", "unit": "SEVA"},
            {
                "username": "rly.supervisor",
                "name": "Railway Board social media cell",
                "role": "supervisor",
                "unit": "RLY",
            },
            {
                "username": "drm.lko",
                "name": "DRM office Lucknow (NR)",
                "role": "agent",
                "unit": "RLY-NR-LKO",
            },
            {
                "username": "upp.control",
                "name": "UP Police social media control room",
                "role": "agent",
                "unit": "UPP",
            },
            {
                "username": "lucknow.police",
                "name": "Lucknow commissionerate desk",
                "role": "agent",
                "unit": "UPP-LUCKNOW",
            },
            {
                "username": "kanpur.police",
                "name": "Kanpur Nagar commissionerate desk",
                "role": "agent",
                "unit": "UPP-KANPUR-NAGAR",
            },
            {
                "username": "passport.desk",
                "name": "Passport Seva helpdesk",
                "role": "agent",
                "unit": "PSP",
            },
        ],
        "templates": [
            {
                "code": "ack",
                "language": "en",
                "body": "We are sorry for the inconvenience. Your complaint {ref} is registered and forwarded to the concerned officials.",
            },
            {
                "code": "ack",
                "language": "hi",
                "body": "असुविधा के लिए खेद है। आपकी शिकायत {ref} दर्ज कर ली गई है और संबंधित अधिकारियों को भेज दी गई है।",
            },
            {
                "code": "need_details",
                "language": "en",
                "body": "Please share your PNR/mobile number via DM so that we can help you. Ref {ref}.",
            },
        ],
    }
    for user in org["users"]:
        user["password"] = "seva-demo-2026"
    out = ROOT / "src" / "sevadesk" / "demo" / "org.yaml"
    header = (
        "# Demo organisation for `seva demo`; generated by scripts/build_demo_org.py (see its docstring\n"
        "# for sources). Passwords here are demo-only: production files carry password_hash.\n"
    )
    out.write_text(
        header + yaml.safe_dump(org, allow_unicode=True, sort_keys=False, width=120),
        encoding="utf-8",
    )
    print(f"wrote {out} ({out.stat().st_size:,} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
