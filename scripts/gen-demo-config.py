#!/usr/bin/env python3
"""Writes crates/stopline-core/templates/demo.toml: the demo workspace of `stopline init --demo`.

A fictional online retailer with 14 delivery teams, a service desk and 35 applications spread over
the 95.0 / 99.0 / 99.9 availability bands of docs/domain.md. Run it again after changing the lists below;
the output is committed so the demo is reviewable as plain TOML.
"""
import pathlib

FIRST = """Aisha Ben Carla Dmitri Elena Farid Grace Hiro Ines Jonas Kemi Lars Maya Nadia Omar Priya
Quinn Rosa Sven Tara Umar Vera Wen Ximena Yusuf Zoe Anton Bianca Cyrus Daria Emeka Fiona Goran Hana
Ivan Julia Kofi Lena Marco Nora Oscar Paula Rafael Sana Tomas Uma Viktor Wanda Yara Zain Amir Beatrix
Chidi Delia Erik Freya Gabe Hedda Idris Jana Kaito Luz""".split()
LAST = """Adeyemi Berg Castillo Dubois Eriksen Fischer Garcia Haddad Ito Jensen Kaur Lindqvist Mensah
Novak Oliveira Petrov Quist Rossi Sato Tanaka Ueda Varga Weber Xu Yilmaz Zimmermann Andersen Bauer
Costa Dahl Evans Ferreira Gruber Horvat Ibrahim Jovanovic Kowalczyk Laine Moreau Nakamura Olsen Park
Quinn Reyes Schmidt Torres Usman Vogel Walsh Young Zhou Ahmed Brennan Cohen Demir Egan Fontaine Grieve
Hale Iqbal""".split()

# team id, name, [(app id, name, target, exposure per hour, journeys, regex job or None)]
TEAMS = [
    ("payments", "Payments", [
        ("payment-gateway", "Payment Gateway", 99.9, 780000, ["pay", "payment", "card declined"], None),
        ("refunds", "Refunds", 99.0, 60000, ["refund", "money back"], None),
        ("payment-reports", "Payment Reports", 95.0, 2500, ["statement", "invoice"], "payment-report.*"),
    ]),
    ("checkout", "Checkout", [
        ("checkout-web", "Checkout Web", 99.9, 650000, ["checkout", "basket", "cart"], None),
        ("basket-api", "Basket API", 99.9, 420000, ["add to basket"], None),
        ("vouchers", "Voucher Redemption", 99.0, 90000, ["voucher", "discount code"], None),
    ]),
    ("catalogue", "Catalogue", [
        ("product-pages", "Product Pages", 99.0, 180000, ["product page", "product"], None),
        ("catalogue-import", "Catalogue Import", 95.0, 4000, ["missing product"], "catalogue-import.*"),
        ("image-service", "Image Service", 99.0, 45000, ["images", "pictures"], None),
    ]),
    ("search", "Search", [
        ("search-api", "Search API", 99.9, 300000, ["search", "find"], None),
        ("recommendations", "Recommendations", 95.0, 6500, ["recommended", "you may also like"], None),
    ]),
    ("identity", "Identity", [
        ("login", "Login", 99.9, 500000, ["login", "log in", "sign in", "password"], None),
        ("account-settings", "Account Settings", 99.0, 20000, ["account", "address", "profile"], None),
    ]),
    ("orders", "Orders", [
        ("order-service", "Order Service", 99.9, 560000, ["order", "order status"], None),
        ("order-history", "Order History", 99.0, 35000, ["my orders", "order history"], None),
        ("returns", "Returns", 99.0, 40000, ["return", "returns label"], None),
    ]),
    ("fulfilment", "Fulfilment", [
        ("warehouse-sync", "Warehouse Sync", 99.0, 120000, ["stock", "out of stock"], "warehouse-.*"),
        ("delivery-slots", "Delivery Slots", 99.0, 150000, ["delivery slot", "delivery"], None),
        ("courier-tracking", "Courier Tracking", 95.0, 5000, ["tracking", "where is my parcel"], None),
    ]),
    ("pricing", "Pricing", [
        ("price-engine", "Price Engine", 99.9, 350000, ["price", "wrong price"], None),
        ("price-feeds", "Price Feeds", 95.0, 3000, ["price comparison"], "price-feed.*"),
    ]),
    ("promotions", "Promotions", [
        ("offers", "Offers", 99.0, 80000, ["offer", "deal", "sale"], None),
        ("newsletter-signup", "Newsletter Signup", 95.0, 800, ["newsletter"], None),
    ]),
    ("messaging", "Customer Messaging", [
        ("email-sender", "Email Sender", 99.0, 25000, ["email", "confirmation email"], None),
        ("sms-gateway", "SMS Gateway", 99.0, 15000, ["sms", "text message"], None),
        ("push-notifications", "Push Notifications", 95.0, 1500, ["notification"], None),
    ]),
    ("mobile", "Mobile Apps", [
        ("mobile-bff", "Mobile Backend", 99.9, 450000, ["app", "mobile app"], None),
        ("app-config", "App Config", 99.0, 30000, ["app update"], None),
    ]),
    ("loyalty", "Loyalty", [
        ("loyalty-points", "Loyalty Points", 99.0, 40000, ["points", "loyalty"], None),
        ("gift-cards", "Gift Cards", 99.0, 70000, ["gift card"], None),
    ]),
    ("reviews", "Reviews", [
        ("product-reviews", "Product Reviews", 95.0, 3500, ["review", "rating"], None),
        ("questions-answers", "Questions and Answers", 95.0, 1200, ["question"], None),
    ]),
    ("data-platform", "Data Platform", [
        ("event-pipeline", "Event Pipeline", 99.0, 10000, ["analytics"], "event-.*"),
        ("reporting", "Business Reporting", 95.0, 2000, ["report", "dashboard"], None),
        ("fraud-scoring", "Fraud Scoring", 99.9, 280000, ["fraud", "blocked payment"], None),
    ]),
]

# Teams with a 99.9% application run their own out-of-hours rota; teams whose highest target is
# 99.0% share a domain rota with their siblings (docs/domain.md). Reviews (95.0% only) has none.
DOMAIN_ROTAS = [
    ("supply-oncall", "Supply chain", ["fulfilment", "catalogue"]),
    ("engagement-oncall", "Customer engagement", ["promotions", "messaging", "loyalty"]),
]

# Extra checklist steps (with runbook links) for a few applications.
EXTRA_STEPS = {
    "payment-gateway": '{ id = "failover-psp", title = "Fail over to the backup payment provider", required = false, runbook = "https://runbooks.northwind.example/payment-gateway/failover" }',
    "checkout-web": '{ id = "feature-flags", title = "Switch off the newest checkout feature flags", required = false, runbook = "https://runbooks.northwind.example/checkout-web/flags" }',
}
# Applications whose incidents usually last longer than the default hour.
EXPECTED_TIME_TO_RESTORE = {"warehouse-sync": "3h", "catalogue-import": "4h", "event-pipeline": "6h"}

def toml_list(items):
    return "[" + ", ".join(f'"{i}"' for i in items) + "]"

def main():
    people, teams, apps = [], [], []
    names = iter(zip(FIRST, LAST))
    def person():
        first, last = next(names)
        pid = first.lower()
        people.append((pid, f"{first} {last}"))
        return pid
    for team_id, team_name, team_apps in TEAMS:
        teams.append((team_id, team_name, "delivery", [person() for _ in range(4)]))
        apps.extend((team_id, *a) for a in team_apps)
    teams.append(("service-desk", "Service Desk", "service_desk", [person() for _ in range(4)]))

    out = ["# Demo workspace written by `stopline init --demo`: a fictional online retailer with",
           f"# {len(TEAMS)} delivery teams, a service desk and {len(apps)} applications across the 95.0 / 99.0 /",
           "# 99.9 availability bands. Edit freely; `stopline check` validates it. Reference: docs/config.md.",
           "# Generated by scripts/gen-demo-config.py.", "",
           "[workspace]", 'name = "Northwind Retail"', 'time_zone = "Europe/London"', 'currency = "GBP"',
           'working_hours = { days = ["mon", "tue", "wed", "thu", "fri"], start = "09:00", end = "17:30" }',
           "major_loss_per_hour = 250000", 'holidays = ["2026-12-25", "2026-12-28", "2027-01-01"]', ""]
    for pid, name in people:
        out += ["[[people]]", f'id = "{pid}"', f'name = "{name}"', ""]
    for tid, name, kind, members in teams:
        out += ["[[teams]]", f'id = "{tid}"', f'name = "{name}"', f'kind = "{kind}"',
                f"members = {toml_list(members)}", ""]
    for team_id, app_id, name, target, exposure, journeys, job_regex in apps:
        out += ["[[applications]]", f'id = "{app_id}"', f'name = "{name}"', f'team = "{team_id}"',
                f"availability_target = {target}", f"exposure_per_hour = {exposure}"]
        if job_regex:
            out.append(f'match_regex = {{ job = "{job_regex}" }}')
        else:
            out.append(f'match = {{ service = "{app_id}" }}')
        out.append(f"journeys = {toml_list(journeys)}")
        if app_id in EXPECTED_TIME_TO_RESTORE:
            out.append(f'expected_time_to_restore = "{EXPECTED_TIME_TO_RESTORE[app_id]}"')
        if app_id in EXTRA_STEPS:
            out.append(f"checklist_extra = [{EXTRA_STEPS[app_id]}]")
        out.append("")
    members_of = {tid: members for tid, _, _, members in teams}
    top_target = {tid: max(a[2] for a in team_apps) for tid, _, team_apps in TEAMS}
    rotas = [(f"{tid}-oncall", f"{name} on call", [tid]) for tid, name, _ in TEAMS if top_target[tid] >= 99.9]
    rotas += DOMAIN_ROTAS
    for rid, name, covered in rotas:
        pool = [m for t in covered for m in members_of[t]]
        out += ["[[rotas]]", f'id = "{rid}"', f'name = "{name}"', f"teams = {toml_list(covered)}"]
        if len(covered) > 1:
            out.append(f'budget_holder = "{covered[0]}"')
        out.append("")
        half = len(pool) // 2
        for layer, members in (("primary", pool), ("secondary", pool[half:] + pool[:half])):
            out += ["[[rotas.layers]]", f'name = "{layer}"', f"members = {toml_list(members)}",
                    'start = "2026-01-05"', 'handoff = "mon 09:00"', 'length = "1w"', ""]
    out += ["[escalation]", 'ack_timeout = "5m"', "repeat = 2", ""]
    path = pathlib.Path(__file__).resolve().parent.parent / "crates/stopline-core/templates/demo.toml"
    path.write_text("\n".join(out))

if __name__ == "__main__":
    main()
