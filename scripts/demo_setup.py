"""Configure the demo database for the local SII simulator.

``scripts/run`` feeds this file to ``odoo-bin shell -d <demo db>`` on its standard input, after
installing ``l10n_cl_dte`` with Odoo's demo data; ``env`` is the shell's superuser environment.
It reads, from the environment:

* ``L10N_CL_DTE_DEMO_AUTHORITY_KEY``: the PEM file of the stand-in SII key (IDK 9999), the one
  the simulator signs with and trusts (``--authority-key``);
* ``L10N_CL_DTE_DEMO_SIMULATOR_URL``: the simulator's base URL;
* ``L10N_CL_DTE_DEMO_BASE_URL``: the URL Odoo serves (for the printed reports).

It is idempotent and runs at every start: it only fills what is missing (a user's edits of the
demo company stay), except what keeps the demo away from the real SII, which it enforces: the
company's SII environment is ``simulator`` and the trusted "SII" key is the stand-in one. A CAF
is issued when a document type has no usable one left (none yet, exhausted, expired, or signed
with another stand-in key).
"""

import base64
import datetime
import os
from pathlib import Path

from odoo import Command, fields
from odoo.addons.l10n_cl_dte.models.l10n_cl_dte_caf import SIMULATOR_IDK_PARAMETER, SIMULATOR_KEY_PARAMETER
from odoo.addons.l10n_cl_dte.sii_engine import caf as engine_caf
from odoo.addons.l10n_cl_dte.sii_engine import identities
from odoo.addons.l10n_cl_dte.sii_engine import rut as engine_rut
from odoo.addons.l10n_cl_dte.sii_engine.errors import CafError

DOCUMENT_TYPES = ("33", "34", "39", "41", "46", "52", "56", "61", "110", "111", "112")
CAF_SIZE = 500
SIGNER_RUT = "11111111-1"
SIGNER_NAME = "Demo Signer"
CERTIFICATE_PASSWORD = "demo"
# Used only when l10n_cl's demo company is not there.
FALLBACK_COMPANY = {"name": "Demo Chile SpA", "vat": "77777777-7"}
COMPANY_DEFAULTS = {
    "street": "Av. Libertador Bernardo O'Higgins 1449",
    "city": "Santiago",  # the comuna: the DTE's CmnaOrigen
    "l10n_cl_activity_description": "Servicios informaticos",  # the giro
}
ACTECO = ("620200", "Actividades de consultoría de informática y de gestión de instalaciones informáticas")
REGIONAL_OFFICE = "Santiago Centro"
UF_VALUE = 40000.0
# l10n_cl's demo customers lack a giro (GiroRecep), which a factura needs.
DEMO_CUSTOMERS = {
    "l10n_cl.res_partner_bmya": {"l10n_cl_activity_description": "Asesorias y consultoria"},
    "l10n_cl.res_partner_teksa": {"l10n_cl_activity_description": "Desarrollo de software", "city": "Las Condes"},
}
DEMO_PRODUCTS = [
    {"name": "Consultoría informática (hora)", "default_code": "CL-CONS", "type": "service", "list_price": 45000},
    {"name": 'Notebook 14"', "default_code": "CL-NB14", "type": "consu", "list_price": 650000},
]
# Sold at the till, shelf prices with IVA included (an exempt one makes a boleta exenta, 41).
POS_PRODUCTS = [
    {"name": "Empanada de pino", "default_code": "CL-EMP", "type": "consu", "list_price": 2500},
    {"name": "Café de grano 250 g", "default_code": "CL-CAFE", "type": "consu", "list_price": 6990},
    {"name": "Libro usado", "default_code": "CL-LIBRO", "type": "consu", "list_price": 4000, "taxed": False},
]
POS_CATEGORY = "Tienda Demo"
# Exports (110-112): a customer abroad, a product sold without IVA, dollars at a rate of the demo's own.
FOREIGN_CUSTOMER = {
    "name": "Pacific Imports LLC",
    "vat": "94-1234567",
    "street": "100 Harbor Blvd",
    "city": "Miami",
    "email": "imports@pacific.example",
}
EXPORT_PRODUCT = {"name": "Vino Carménère Reserva (caja 12 botellas)", "default_code": "CL-VINO-EXP",
                  "type": "consu", "list_price": 120000}
DOLLAR_IN_PESOS = 950.0
EURO_IN_PESOS = 1050.5
DEMO_LANGUAGE = "es_CL"
DEMO_DTE_EMAIL = "dte@example.com"  # a domain reserved for examples (RFC 2606)
FALLBACK_CUSTOMER = {
    "name": "Cliente Demo Ltda.",
    "vat": "12345678-5",
    "street": "Av. Apoquindo 4501",
    "city": "Las Condes",
    "l10n_cl_activity_description": "Comercio al por menor",
}


def log(message):
    print(f"demo_setup: {message}", flush=True)


def fill(record, values):
    """Write the values whose field is empty; return the names written."""
    missing = {name: value for name, value in values.items() if not record[name]}
    if missing:
        record.write(missing)
    return sorted(missing)


def load_authority():
    path = Path(os.environ["L10N_CL_DTE_DEMO_AUTHORITY_KEY"])
    return identities.TestAuthority.from_private_key_pem(path.read_bytes())


def trust_authority(env, authority):
    parameters = env["ir.config_parameter"].sudo()
    pem = authority.public_key_pem.decode()
    if parameters.get_param(SIMULATOR_KEY_PARAMETER) not in (None, False, pem):
        log("the stand-in SII key changed: CAFs signed with the previous one are archived and replaced")
    parameters.set_param(SIMULATOR_KEY_PARAMETER, pem)
    parameters.set_param(SIMULATOR_IDK_PARAMETER, str(authority.idk))


def chilean_company(env):
    """l10n_cl's demo company "CL Company" when it is there with a valid RUT, else "Demo Chile SpA"."""
    chile = env.ref("base.cl")
    company = env.ref("base.demo_company_cl", raise_if_not_found=False)
    if company and company.country_id == chile and engine_rut.is_valid(company.vat):
        return company
    company = env["res.company"].search([("name", "=", FALLBACK_COMPANY["name"])], limit=1)
    if not company:
        log(f"l10n_cl's demo company is missing: creating {FALLBACK_COMPANY['name']}")
        company = env["res.company"].create({
            "name": FALLBACK_COMPANY["name"],
            "country_id": chile.id,
            "currency_id": env.ref("base.CLP").id,
        })
        company.partner_id.write({
            "l10n_latam_identification_type_id": env.ref("l10n_cl.it_RUT").id,
            "l10n_cl_sii_taxpayer_type": "1",
            "vat": FALLBACK_COMPANY["vat"],
            "is_company": True,
        })
    return company


def configure_company(env, company):
    if company.chart_template != "cl":
        log(f"loading the Chilean chart of accounts in {company.name}")
        env["account.chart.template"].try_loading("cl", company=company, install_demo=False)
    partner = company.partner_id
    if partner.street == "1":  # l10n_cl's demo placeholder
        partner.street = False
    fill(partner, {**COMPANY_DEFAULTS, "state_id": env.ref("base.state_cl_13").id})
    acteco = env["l10n_cl_dte.acteco"].with_context(active_test=False).search([("code", "=", ACTECO[0])])
    if not acteco:
        acteco = env["l10n_cl_dte.acteco"].create({"code": ACTECO[0], "name": ACTECO[1]})
    fill(company, {
        "l10n_cl_dte_acteco_ids": [Command.set(acteco.ids)],
        "l10n_cl_dte_resolution_number": 0,  # what the SII's certification environment uses
        "l10n_cl_dte_resolution_date": fields.Date.context_today(company),
        "l10n_cl_sii_regional_office": REGIONAL_OFFICE,
        # The boleta limit of 135 UF in pesos (Odoo has no CLF rate offline): about the UF of late 2026.
        "l10n_cl_dte_uf_value": UF_VALUE,
        "l10n_cl_dte_email": partner.email or "dte@example.cl",
        # Printing then gives the PDF at once instead of opening the document layout wizard first.
        "external_report_layout_id": env.ref("web.external_layout_standard").id,
    })
    # Enforced at every start: the demo talks to the local simulator only.
    company.write({
        "l10n_cl_dte_environment": "simulator",
        "l10n_cl_dte_simulator_url": os.environ["L10N_CL_DTE_DEMO_SIMULATOR_URL"],
    })


def ensure_certificate(env, company):
    certificates = env["l10n_cl_dte.certificate"]
    valid = certificates.search([("company_id", "=", company.id), ("state", "=", "valid")], limit=1)
    if valid:
        return valid
    pkcs12 = identities.make_pkcs12(SIGNER_RUT, SIGNER_NAME, CERTIFICATE_PASSWORD)
    certificate = certificates.create({
        "company_id": company.id,
        "file": base64.b64encode(pkcs12),
        "file_name": "demo-signer.p12",
        "password": CERTIFICATE_PASSWORD,
    })
    log(f"created the test certificate of {SIGNER_NAME} ({SIGNER_RUT}), self-signed, valid one year")
    return certificate


def ensure_cafs(env, company, authority):
    cafs = env["l10n_cl_dte.caf"]
    company_rut = engine_rut.normalize(company.vat)
    loaded = []
    for code in DOCUMENT_TYPES:
        document_type = env["l10n_latam.document.type"].with_context(active_test=False).search(
            [("code", "=", code), ("country_id.code", "=", "CL")], limit=1
        )
        document_type.active = True  # l10n_cl ships the factura de compra (46) archived
        usable = False
        for caf in cafs.search([("company_id", "=", company.id), ("document_type_id", "=", document_type.id)]):
            if caf.state != "in_use":
                continue
            try:
                engine_caf.load_caf(base64.b64decode(caf.file), authority.trusted_keys())
            except CafError:
                caf.active = False  # signed with an earlier stand-in key: cannot stamp any more
                continue
            usable = True
        if usable:
            continue
        issued = cafs.with_context(active_test=False).search(
            [("company_id", "=", company.id), ("document_type_id", "=", document_type.id)]
        )
        # Odoo's demo data posts (unstamped) exports and export notes numbered from 1: start after them.
        numbered = env["account.move"].search([
            ("company_id", "=", company.id), ("l10n_latam_document_type_id", "=", document_type.id),
            ("state", "=", "posted"),
        ]).mapped("l10n_latam_document_number")
        first = max([*issued.mapped("last_folio"), *(int(n) for n in numbered if n and n.isdigit())], default=0) + 1
        last = first + CAF_SIZE - 1
        caf_file = authority.issue_caf(company_rut, company.name, int(code), first, last)
        cafs.create({
            "company_id": company.id,
            "file": base64.b64encode(caf_file),
            "file_name": f"CAF_{company_rut}_{code}_{first}-{last}.xml",
        })
        loaded.append(f"{code} {first}-{last}")
    if loaded:
        log(f"loaded CAFs signed by the stand-in SII key (IDK {authority.idk}): {', '.join(loaded)}")


def ensure_customer(env, company):
    """A Chilean customer a factura can be issued to: RUT, giro, street and comuna."""
    customers = env["res.partner"]
    region = env.ref("base.state_cl_13").id
    for xmlid, values in DEMO_CUSTOMERS.items():
        partner = env.ref(xmlid, raise_if_not_found=False)
        if partner and engine_rut.is_valid(partner.vat):
            if partner.city == "Los Condes":  # sic in l10n_cl's demo data: the comuna is Las Condes
                partner.city = False
            fill(partner, {**values, "state_id": region})
            if "l10n_cl_dte_email" in partner._fields:
                # Accepted DTEs are e-mailed to this address, else to the partner's (real-looking) e-mail.
                fill(partner, {"l10n_cl_dte_email": DEMO_DTE_EMAIL})
            customers |= partner
    if not customers:
        customers = env["res.partner"].search([("vat", "=", FALLBACK_CUSTOMER["vat"])], limit=1)
    if not customers:
        customers = env["res.partner"].create({
            **FALLBACK_CUSTOMER,
            "is_company": True,
            "country_id": env.ref("base.cl").id,
            "state_id": region,
            "l10n_latam_identification_type_id": env.ref("l10n_cl.it_RUT").id,
            "l10n_cl_sii_taxpayer_type": "1",
            "email": DEMO_DTE_EMAIL,
        })
    return customers[0]


def ensure_products(env, company):
    """Products sold with the company's IVA 19%, the tax of a factura (33).

    At the first setup it also gives that IVA to the demo products sold without any tax of the
    company (Odoo's demo products have none in a Chilean company): a line without IVA on a
    factura is an exempt amount, not what a first invoice should show.
    """
    iva = env["account.tax"].search([
        *env["account.tax"]._check_company_domain(company),
        ("type_tax_use", "=", "sale"), ("l10n_cl_sii_code", "=", 14), ("amount", "=", 19),
        ("price_include", "=", False),
    ], limit=1)
    if not iva:
        log(f"warning: {company.name} has no IVA 19% sale tax: add it to the invoice lines by hand")
        return
    templates = env["product.template"].with_context(active_test=False)
    if templates.search_count([
        *templates._check_company_domain(company), ("default_code", "=", DEMO_PRODUCTS[0]["default_code"]),
    ]):
        return
    # Products sold at the till get the IVA included in their shelf price (ensure_pos), not this one.
    untaxed = templates.search([
        *templates._check_company_domain(company), ("sale_ok", "=", True), ("active", "=", True),
        ("available_in_pos", "=", False),
    ]).filtered(lambda template: not template.taxes_id.filtered(lambda tax: tax.company_id == company))
    untaxed.write({"taxes_id": [Command.link(iva.id)]})
    templates.create([
        {**values, "company_id": company.id, "sale_ok": True, "taxes_id": [Command.set(iva.ids)]}
        for values in DEMO_PRODUCTS
    ])
    log(f"created {len(DEMO_PRODUCTS)} products with {iva.name}; gave it to {len(untaxed)} untaxed demo products")


def ensure_exports(env, company):
    """What an export invoice in dollars needs: a foreign customer, a product without IVA, a dollar rate."""
    partners = env["res.partner"]
    customer = partners.search([("vat", "=", FOREIGN_CUSTOMER["vat"])], limit=1) or partners.create({
        **FOREIGN_CUSTOMER,
        "is_company": True,
        "country_id": env.ref("base.us").id,
        "l10n_latam_identification_type_id": env.ref("l10n_latam_base.it_vat").id,
        "l10n_cl_sii_taxpayer_type": "4",
    })
    templates = env["product.template"].with_context(active_test=False)
    if not templates.search_count([("default_code", "=", EXPORT_PRODUCT["default_code"])]):
        templates.create({**EXPORT_PRODUCT, "company_id": company.id, "sale_ok": True, "taxes_id": [Command.clear()]})
    usd = env.ref("base.USD")
    usd.active = True
    rates = env["res.currency.rate"]
    if not rates.search_count([("currency_id", "=", usd.id), ("company_id", "=", company.id)]):
        rates.create({"currency_id": usd.id, "company_id": company.id, "name": datetime.date.today(),
                      "rate": 1 / DOLLAR_IN_PESOS})
        log(f"dollar at {DOLLAR_IN_PESOS:g} pesos from today")
    # The SII's second export set is in euros.
    eur = env.ref("base.EUR")
    eur.active = True
    if not rates.search_count([("currency_id", "=", eur.id), ("company_id", "=", company.id)]):
        rates.create({"currency_id": eur.id, "company_id": company.id, "name": datetime.date.today(),
                      "rate": 1 / EURO_IN_PESOS})
        log(f"euro at {EURO_IN_PESOS:g} pesos from today")
    return customer


# A journal using documents, per type: created when every existing one already has posted entries.
NEW_DOCUMENT_JOURNALS = {
    "sale": {"name": "Electronic Invoices", "code": "DTE"},
    "purchase": {"name": "Received DTEs", "code": "DTER"},  # a received DTE's bill takes its type and folio
}


def ensure_sale_journal(env, company, journal_type="sale"):
    journals = env["account.journal"].search(
        [("company_id", "=", company.id), ("type", "=", journal_type)], order="sequence, id"
    )
    journal = journals.filtered("l10n_latam_use_documents")[:1]
    if journal:
        return journal
    for candidate in journals:
        if not env["account.move"].search_count([("journal_id", "=", candidate.id), ("state", "=", "posted")]):
            candidate.l10n_latam_use_documents = True
            return candidate
    return env["account.journal"].create({
        **NEW_DOCUMENT_JOURNALS[journal_type],
        "type": journal_type,
        "company_id": company.id,
        "l10n_latam_use_documents": True,
        "sequence": min(journals.mapped("sequence"), default=10) - 1,
        # Lines whose product names no income or expense account take the journal's.
        "default_account_id": journals.default_account_id[:1].id,
    })


def ensure_pos(env, company, journal):
    """A shop whose sales are boletas: shelf prices include IVA, invoices and returns use the DTE journal."""
    taxes = env["account.tax"]
    iva = taxes.search([
        *taxes._check_company_domain(company), ("type_tax_use", "=", "sale"), ("l10n_cl_sii_code", "=", 14),
        ("amount", "=", 19), ("price_include", "=", False),
    ], limit=1)
    iva_included = taxes.search([
        *taxes._check_company_domain(company), ("type_tax_use", "=", "sale"), ("l10n_cl_sii_code", "=", 14),
        ("amount", "=", 19), ("price_include", "=", True),
    ], limit=1) or (iva and iva.copy({"name": "19% IVA (incl.)", "price_include_override": "tax_included"}))
    templates = env["product.template"].with_context(active_test=False)
    category = env["pos.category"].search([("name", "=", POS_CATEGORY)], limit=1) or env["pos.category"].create(
        {"name": POS_CATEGORY}
    )
    for values in POS_PRODUCTS:
        existing = templates.search([("default_code", "=", values["default_code"])], limit=1)
        if existing:
            if category not in existing.pos_categ_ids:
                existing.pos_categ_ids = [Command.link(category.id)]
            continue
        product = {key: value for key, value in values.items() if key != "taxed"}
        taxed = values.get("taxed", True) and iva_included
        templates.create({
            **product, "company_id": company.id, "sale_ok": True, "available_in_pos": True,
            "pos_categ_ids": [Command.set(category.ids)],
            "taxes_id": [Command.set(iva_included.ids)] if taxed else [Command.clear()],
        })
    # Odoo's own demo products on the till (Bagel, Cinnamon Roll…) got the company's IVA excluded from
    # the price when the chart was loaded, or no tax: a Chilean shelf price includes IVA.
    on_till = templates.search([
        *templates._check_company_domain(company), ("available_in_pos", "=", True), ("active", "=", True),
        ("default_code", "not in", [values["default_code"] for values in POS_PRODUCTS]),
    ]).filtered(lambda template: template.taxes_id.filtered(lambda tax: tax.company_id == company) in (taxes, iva))
    if iva_included and on_till:
        on_till.write({"taxes_id": [Command.unlink(iva.id), Command.link(iva_included.id)]} if iva
                      else {"taxes_id": [Command.link(iva_included.id)]})
        log(f"gave {iva_included.name} to {len(on_till)} demo products of the till")
    configs = env["pos.config"].search([("company_id", "=", company.id)])
    config = configs[:1] or env["pos.config"].with_company(company).create({"name": "Tienda Demo", "company_id": company.id})
    if config.invoice_journal_id != journal:
        config.invoice_journal_id = journal
    # The till shows the shop's own products, priced in pesos; Odoo's demo catalogue (Bagel at $ 1.25,
    # desks…) is priced for another currency. Odoo refuses this change while a session is open.
    if not config.limit_categories and not config.current_session_id:
        config.write({"limit_categories": True, "iface_available_categ_ids": [Command.set(category.ids)]})
    # The till's card payments are electronic payments on the boletas (MedioPago 2; cash is 1 on its own).
    cards = config.payment_method_ids.filtered(
        lambda method: method.type == "bank" and method.l10n_cl_dte_payment_method == "other"
    )
    cards.l10n_cl_dte_payment_method = "debit_card"
    log(f"point of sale: {config.name} (boletas; invoices and returns in {journal.name}); payment methods: "
        + ", ".join(f"{method.name} ({method.l10n_cl_dte_payment_method})" for method in config.payment_method_ids))
    return config


def ensure_peso_pricelist(env, company):
    """Sales in pesos: l10n_cl's demo company gets Odoo's "Default" pricelist in dollars (made before the
    company's currency becomes CLP), where a quotation would price a 650.000 notebook in USD. A pricelist
    in pesos, first, is the customers' default."""
    pricelists = env["product.pricelist"]
    if pricelists.search_count([("company_id", "=", company.id), ("currency_id", "=", company.currency_id.id)]):
        return
    first = min(pricelists.search([("company_id", "=", company.id)]).mapped("sequence"), default=10)
    pricelist = pricelists.create({
        "name": f"Precios de lista ({company.currency_id.name})", "currency_id": company.currency_id.id,
        "company_id": company.id, "sequence": first - 1,
    })
    log(f"sales of {company.name} in {company.currency_id.name}: pricelist {pricelist.name}")


def ensure_guias(env, company):
    """The company's deliveries issue a guía de despacho (52) when validated, priced as their sale order."""
    warehouse = env["stock.warehouse"].search([("company_id", "=", company.id)], limit=1) or env[
        "stock.warehouse"
    ].create({"name": company.name[:30], "code": "CLDTE", "company_id": company.id})
    delivery = warehouse.out_type_id
    if not delivery.l10n_cl_dte_guia:
        delivery.write({"l10n_cl_dte_guia": True, "l10n_cl_dte_transfer_indicator": "1",
                        "l10n_cl_dte_dispatch_type": "2", "l10n_cl_dte_valuation": "sale_order"})
        log(f"deliveries of {warehouse.name} ({delivery.display_name}) issue guías de despacho (52)")


def speak_chilean_spanish(env, company, customers):
    """The company, its customers and so its printed documents and e-mails are in Chilean Spanish."""
    languages = env["res.lang"].with_context(active_test=False)
    if not languages.search([("code", "=", DEMO_LANGUAGE), ("active", "=", True)]):
        log(f"loading the {DEMO_LANGUAGE} translations (once)")
        languages._activate_lang(DEMO_LANGUAGE)
        env["ir.module.module"].search([("state", "=", "installed")])._update_translations([DEMO_LANGUAGE])
    partners = company.partner_id | customers
    partners.filtered(lambda partner: partner.lang != DEMO_LANGUAGE).write({"lang": DEMO_LANGUAGE})


def keep_on_loopback(env):
    """Partner Autocomplete asks servers on the internet as a name is typed: the demo stays on 127.0.0.1."""
    module = env["ir.module.module"].search([("name", "=", "partner_autocomplete"), ("state", "=", "installed")])
    if module:
        log("uninstalling partner_autocomplete (it calls the internet while a partner's name is typed)")
        module.button_immediate_uninstall()


def configure_admin(env, company):
    admin = env.ref("base.user_admin")
    admin.write({"company_ids": [Command.link(company.id)], "company_id": company.id})


def configure_urls(env):
    base_url = os.environ.get("L10N_CL_DTE_DEMO_BASE_URL")
    if base_url:
        parameters = env["ir.config_parameter"].sudo()
        parameters.set_param("web.base.url", base_url)
        parameters.set_param("report.url", base_url)  # wkhtmltopdf fetches the report's styles there


def main(env):
    authority = load_authority()
    trust_authority(env, authority)
    company = chilean_company(env)
    configure_company(env, company)
    certificate = ensure_certificate(env, company)
    ensure_cafs(env, company, authority)
    customer = ensure_customer(env, company)
    ensure_products(env, company)
    foreign_customer = ensure_exports(env, company)
    journal = ensure_sale_journal(env, company)
    ensure_sale_journal(env, company, "purchase")
    ensure_peso_pricelist(env, company)
    ensure_guias(env, company)
    ensure_pos(env, company, journal)
    speak_chilean_spanish(env, company, customer | env["res.partner"].browse(
        [env.ref(xmlid).id for xmlid in DEMO_CUSTOMERS if env.ref(xmlid, raise_if_not_found=False)]
    ))
    configure_admin(env, company)
    configure_urls(env)
    env.cr.commit()
    remaining = {
        code: env["l10n_cl_dte.caf"]._l10n_cl_dte_remaining(
            company, env["l10n_latam.document.type"].search([("code", "=", code), ("country_id.code", "=", "CL")])
        )
        for code in DOCUMENT_TYPES
    }
    log(f"company {company.name} (RUT {company.vat}), SII environment: simulator at {company.l10n_cl_dte_simulator_url}")
    log(f"certificate: {certificate.name}, holder RUT {certificate.holder_rut}")
    log("folios left: " + ", ".join(f"{code}: {count}" for code, count in remaining.items()))
    log(f"sale journal: {journal.name}; customer for a factura: {customer.name} (RUT {customer.vat})")
    log(f"customer for an export (110) in USD: {foreign_customer.name} ({foreign_customer.country_id.name})")
    keep_on_loopback(env)  # last: uninstalling reloads the registry
    log(f"ready ({datetime.datetime.now():%Y-%m-%d %H:%M:%S})")


if __name__ == "__main__" and "env" in globals():
    main(globals()["env"])
