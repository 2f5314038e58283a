"""What business exports call things: synonyms per canonical column, abbreviations, entity words, noise.

Data, not logic: the proposer (mappings/services/propose.py) normalizes a header into lower-case ASCII
words, expands abbreviations, and looks the phrase up here. Phrases are written already normalized
(lower case, no accents, words separated by one space). German, French and Spanish business terms sit
next to the English ones; German compounds are listed whole ("rechnungsdatum") because they do not split.
"""

from __future__ import annotations

# Word-level abbreviations seen in exports → the word they stand for.
ABBREVIATIONS: dict[str, str] = {
    "amt": "amount",
    "amnt": "amount",
    "qty": "quantity",
    "qnty": "quantity",
    "dt": "date",
    "no": "number",
    "nr": "number",
    "num": "number",
    "nbr": "number",
    "nm": "name",
    "cust": "customer",
    "ord": "order",
    "eml": "email",
    "mail": "email",
    "e": "e",
    "addr": "address",
    "prod": "product",
    "desc": "description",
    "descr": "description",
    "inv": "invoice",
    "pmt": "payment",
    "pymt": "payment",
    "emp": "employee",
    "empl": "employee",
    "mgr": "manager",
    "dept": "department",
    "cat": "category",
    "tel": "phone",
    "ph": "phone",
    "telephone": "phone",
    "ctry": "country",
    "cntry": "country",
    "curr": "currency",
    "ccy": "currency",
    "cur": "currency",
    "sup": "supplier",
    "supp": "supplier",
    "txn": "transaction",
    "trx": "transaction",
    "wh": "warehouse",
    "whse": "warehouse",
    "disc": "discount",
    "pct": "percent",
    "cnt": "count",
    "co": "company",
    "acct": "account",
    "ref": "reference",
    "rep": "rep",
    "id": "id",
    "ident": "id",
    "identifier": "id",
    "uid": "id",
    "uuid": "id",
    "sku": "sku",
    "stk": "stock",
    "dob": "birth date",
    "fname": "first name",
    "lname": "last name",
    "firstname": "first name",
    "lastname": "last name",
    "surname": "last name",
    "givenname": "first name",
    "familyname": "last name",
    "emailaddress": "email",
    "phonenumber": "phone",
    "zip": "postal code",
    "zipcode": "postal code",
    "postcode": "postal code",
    "subtotal": "subtotal",
    "createdat": "created at",
    "updatedat": "updated at",
}

# A header word naming the entity a column belongs to, per canonical table (also used for file names).
ENTITY_WORDS: dict[str, tuple[str, ...]] = {
    "canonical_customers": (
        "customer", "customers", "client", "clients", "kunde", "kunden", "cliente", "clientes", "account",
        "accounts", "contact", "contacts", "buyer", "debitor", "debitoren", "company", "companies",
    ),
    "canonical_employees": (
        "employee", "employees", "staff", "mitarbeiter", "employe", "employes", "empleado", "empleados",
        "worker", "personnel", "people", "hr", "personal",
    ),
    "canonical_suppliers": (
        "supplier", "suppliers", "vendor", "vendors", "lieferant", "lieferanten", "fournisseur",
        "fournisseurs", "proveedor", "proveedores", "kreditor", "kreditoren",
    ),
    "canonical_products": (
        "product", "products", "item", "items", "sku", "artikel", "produit", "produits", "producto",
        "productos", "variant", "catalog", "catalogue",
    ),
    "canonical_orders": (
        "order", "orders", "bestellung", "bestellungen", "auftrag", "auftrage", "commande", "commandes",
        "pedido", "pedidos", "sales", "deal", "deals", "opportunity", "opportunities",
    ),
    "canonical_order_lines": (
        "line", "lines", "lineitem", "lineitems", "details", "detail", "position", "positionen",
        "ligne", "lignes", "linea", "lineas",
    ),
    "canonical_invoices": (
        "invoice", "invoices", "rechnung", "rechnungen", "facture", "factures", "factura", "facturas",
        "bill", "bills", "billing",
    ),
    "canonical_payments": (
        "payment", "payments", "zahlung", "zahlungen", "paiement", "paiements", "pago", "pagos", "charge",
        "charges", "transaction", "transactions", "receipt", "receipts", "buchungen",
    ),
    "canonical_expenses": (
        "expense", "expenses", "ausgabe", "ausgaben", "depense", "depenses", "gasto", "gastos", "spend",
        "reimbursement", "expensify", "auslagen", "spesen",
    ),
    "canonical_inventory": (
        "inventory", "stock", "bestand", "lager", "inventaire", "inventario", "warehouse", "stocklevels",
    ),
}

# Synonyms that mean the same column whatever the table (the table comes from the file's other columns).
COLUMN_SYNONYMS: dict[str, tuple[str, ...]] = {
    "name": (
        "name", "full name", "display name", "company name", "company", "bezeichnung", "nom", "nombre",
        "name 1", "firma", "firmenname", "raison sociale", "razon social", "account name", "business name",
        "organization", "organisation", "legal name",
    ),
    "email": (
        "email", "e mail", "email address", "e mail address", "mail address", "courriel", "correo",
        "correo electronico", "adresse email", "e mail adresse", "contact email", "primary email",
    ),
    "phone": (
        "phone", "phone number", "telefon", "telefonnummer", "telephone", "mobile", "mobile phone",
        "cell", "cell phone", "tel", "telefono", "numero de telephone", "contact phone", "business phone",
        "work phone", "main phone", "home phone",
    ),
    "country": (
        "country", "land", "pays", "pais", "country code", "country region", "billing country",
        "country name", "nation",
    ),
    "city": ("city", "stadt", "ort", "ville", "ciudad", "town", "billing city", "locality"),
    "currency": (
        "currency", "wahrung", "devise", "monnaie", "moneda", "currency code", "divisa", "iso currency",
    ),
    "status": (
        "status", "state", "statut", "estado", "zustand", "stage", "financial status", "payment status",
        "order status", "invoice status", "deal stage",
    ),
    "category": (
        "category", "kategorie", "categorie", "categoria", "product category", "type", "product type",
        "warengruppe", "expense category", "art",
    ),
    "amount": (
        "amount", "total", "betrag", "montant", "importe", "monto", "total amount", "gross", "value",
        "sum", "summe", "gesamtbetrag", "net amount", "grand total", "amount total",
    ),
    "title": ("title", "job title", "position", "role", "titel", "poste", "puesto", "stellenbezeichnung"),
    "segment": (
        "segment", "customer segment", "customer type", "tier", "lifecycle stage", "market segment",
        "kundengruppe", "industry", "branche", "account type", "type de client", "tipo de cliente",
    ),
    "created_at": (
        "created at", "created", "created date", "creation date", "date created", "signup date",
        "customer since", "first order date", "angelegt am", "erstellt am", "date de creation",
        "fecha de creacion", "created on", "create date", "join date", "since",
    ),
}

# Synonyms for one table's column ("table.column"). Reference columns list how files name the referent.
TABLE_COLUMN_SYNONYMS: dict[str, tuple[str, ...]] = {
    # --- customers
    "canonical_customers.external_id": (
        "customer id", "customer number", "customer code", "customer ref", "client id", "client number",
        "kundennummer", "kunden nr", "kundennr", "debitor", "debitorennummer", "debitorenkonto",
        "numero client", "code client", "id client", "numero de cliente", "id cliente", "codigo cliente",
        "account id", "account number", "contact id", "record id", "customer",
    ),
    "canonical_customers.name": (
        "customer name", "client name", "kundenname", "nom du client", "nombre del cliente",
        "nombre cliente", "company name", "companyname", "account name", "customer", "display name",
        "contact name",
    ),
    "canonical_customers.email": ("customer email", "client email", "email kunde"),
    "canonical_customers.phone": ("customer phone",),
    "canonical_customers.sales_rep_id": (
        "sales rep", "sales rep id", "account owner", "owner", "contact owner", "record owner",
        "assigned to", "sales person", "salesperson", "account manager", "vertriebsmitarbeiter",
        "betreuer", "commercial", "vendedor", "employee id", "rep id", "rep",
    ),
    "canonical_customers.country": ("billing country", "shipping country", "mailing country"),
    "canonical_customers.city": ("billing city", "mailing city"),
    # --- employees
    "canonical_employees.external_id": (
        "employee id", "employee number", "personnel number", "personalnummer", "matricule",
        "numero de empleado", "staff id", "worker id", "badge", "employee no",
    ),
    "canonical_employees.name": ("employee name", "employee", "mitarbeitername", "nom de l employe", "full name"),
    "canonical_employees.email": ("work email", "employee email", "business email", "company email"),
    "canonical_employees.title": ("job title", "title", "position", "designation"),
    "canonical_employees.team": (
        "team", "department", "division", "abteilung", "departement", "departamento", "group", "unit",
        "business unit", "cost center", "kostenstelle", "sales team", "region team",
    ),
    "canonical_employees.manager_id": (
        "manager", "manager id", "reports to", "reportsto", "supervisor", "supervisor id", "line manager",
        "vorgesetzter", "responsable", "jefe", "manager employee id", "reporting to", "boss",
    ),
    "canonical_employees.hire_date": (
        "hire date", "hired", "hired on", "start date", "date of hire", "eintrittsdatum", "date d embauche",
        "fecha de contratacion", "employment start", "joined", "join date", "original hire date",
    ),
    # --- suppliers
    "canonical_suppliers.external_id": (
        "supplier id", "supplier number", "vendor id", "vendor number", "lieferantennummer", "kreditor",
        "kreditorennummer", "code fournisseur", "id proveedor", "supplier code", "vendor code",
    ),
    "canonical_suppliers.name": (
        "supplier name", "vendor name", "lieferantenname", "nom du fournisseur", "nombre del proveedor",
        "company name", "companyname", "supplier",
    ),
    "canonical_suppliers.email": ("supplier email", "vendor email"),
    "canonical_suppliers.phone": ("supplier phone", "vendor phone"),
    # --- products
    "canonical_products.external_id": (
        "product id", "sku", "item id", "item number", "item code", "product code", "article number",
        "artikelnummer", "artikel nr", "material", "material number", "materialnummer", "reference",
        "code article", "ref produit", "codigo producto", "variant sku", "part number", "matnr", "upc",
        "product number",
    ),
    "canonical_products.name": (
        "product name", "productname", "item name", "product", "item", "title", "artikelbezeichnung",
        "artikelname", "bezeichnung", "designation", "libelle", "nom du produit", "nombre del producto",
        "descripcion", "description", "product title", "material description", "item description",
    ),
    "canonical_products.category": ("product category", "category name", "warengruppe", "product type", "type"),
    "canonical_products.price": (
        "price", "unit price", "list price", "sale price", "selling price", "variant price", "preis",
        "verkaufspreis", "listenpreis", "prix", "prix unitaire", "precio", "precio unitario", "retail price",
        "msrp", "rate", "sales price",
    ),
    "canonical_products.cost": (
        "cost", "unit cost", "cost price", "purchase price", "einkaufspreis", "standard cost",
        "cost per item", "variant cost", "cout", "prix d achat", "costo", "coste", "standardpreis",
    ),
    "canonical_products.supplier_id": (
        "supplier", "supplier id", "vendor", "vendor id", "lieferant", "fournisseur", "proveedor",
        "supplier name", "vendor name", "kreditor",
    ),
    # --- orders
    "canonical_orders.external_id": (
        "order id", "order number", "order", "order name", "order ref", "order reference", "bestellnummer",
        "auftragsnummer", "auftrag", "belegnummer", "numero de commande", "commande", "numero de pedido",
        "pedido", "sales order", "sales document", "vbeln", "so number", "deal id", "opportunity id",
        "name",
    ),
    "canonical_orders.customer_id": (
        "customer id", "customer", "customer number", "customer email", "client", "client id", "kunde",
        "kundennummer", "kunden nr", "client id", "id client", "cliente", "id cliente", "sold to",
        "sold to party", "buyer", "account id", "account", "customer name", "email", "bill to",
        "company", "account name", "debitor", "kunnr",
    ),
    "canonical_orders.sales_rep_id": (
        "sales rep", "sales rep id", "employee id", "employee", "salesperson", "sales person", "seller",
        "rep", "owner", "deal owner", "opportunity owner", "account owner", "vertriebsmitarbeiter",
        "vendeur", "vendedor", "sales employee", "assigned to", "created by", "staff",
    ),
    "canonical_orders.order_date": (
        "order date", "date", "created at", "created", "processed at", "bestelldatum", "auftragsdatum",
        "belegdatum", "date de commande", "fecha de pedido", "fecha", "order created", "close date",
        "closed date", "document date", "purchase date", "placed at", "datum", "erdat", "audat",
        "transaction date", "sale date",
    ),
    "canonical_orders.status": (
        "order status", "status", "financial status", "fulfillment status", "deal stage", "stage",
        "bestellstatus", "statut de la commande", "estado del pedido",
    ),
    "canonical_orders.amount": (
        "total", "order total", "amount", "total price", "grand total", "gesamtbetrag", "bestellwert",
        "montant total", "importe total", "deal amount", "net value", "nettowert", "total amount",
        "order amount", "amount total", "netwr", "revenue", "subtotal", "total sales",
    ),
    "canonical_orders.currency": ("currency", "order currency", "presentment currency", "waers"),
    "canonical_orders.shipped_date": (
        "shipped date", "ship date", "shipped at", "fulfilled at", "shipping date", "delivery date",
        "lieferdatum", "versanddatum", "date d expedition", "fecha de envio", "shipped", "dispatch date",
    ),
    # --- order lines
    "canonical_order_lines.external_id": ("line id", "line item id", "order line id", "position id"),
    "canonical_order_lines.order_id": (
        "order id", "order number", "order", "order name", "order ref", "bestellnummer", "auftragsnummer",
        "numero de commande", "numero de pedido", "sales order", "vbeln", "belegnummer",
    ),
    "canonical_order_lines.product_id": (
        "product id", "sku", "lineitem sku", "item id", "item", "item number", "product", "article number",
        "artikelnummer", "material", "matnr", "product code", "item code", "variant sku", "lineitem name",
    ),
    "canonical_order_lines.quantity": (
        "quantity", "qty", "lineitem quantity", "units", "menge", "anzahl", "quantite", "cantidad",
        "order quantity", "units sold", "pieces", "stuck", "kwmeng", "count",
    ),
    "canonical_order_lines.unit_price": (
        "unit price", "unitprice", "price", "lineitem price", "item price", "einzelpreis", "stuckpreis",
        "prix unitaire", "precio unitario", "price each", "rate", "sales price", "net price",
    ),
    "canonical_order_lines.discount": (
        "discount", "discount rate", "discount percent", "rabatt", "remise", "descuento", "lineitem discount",
    ),
    "canonical_order_lines.amount": (
        "line total", "line amount", "extended price", "lineitem total", "amount", "total", "net amount",
        "positionswert", "montant ligne", "importe linea", "subtotal",
    ),
    # --- invoices
    "canonical_invoices.external_id": (
        "invoice id", "invoice number", "invoice", "invoice no", "rechnungsnummer", "rechnungs nr",
        "numero de facture", "facture", "numero de factura", "factura", "bill number", "document number",
        "belegnummer", "belegnr", "invoice ref", "number", "invoicenumber", "id",
    ),
    "canonical_invoices.order_id": ("order id", "order number", "sales order", "bestellnummer", "auftragsnummer"),
    "canonical_invoices.customer_id": (
        "customer id", "customer", "customer email", "customer name", "contact name", "client", "kunde",
        "kundennummer", "client id", "cliente", "bill to", "debitor", "account", "contact", "customer number",
        "konto", "gegenkonto", "customer ref", "contactname", "emailaddress",
    ),
    "canonical_invoices.invoice_date": (
        "invoice date", "date", "created", "created at", "rechnungsdatum", "belegdatum", "date de facture",
        "date facture", "fecha de factura", "fecha factura", "issue date", "issued", "billing date",
        "txn date", "invoicedate", "datum", "document date", "fecha",
    ),
    "canonical_invoices.due_date": (
        "due date", "due", "payment due", "due on", "falligkeit", "falligkeitsdatum", "faellig am",
        "date d echeance", "echeance", "fecha de vencimiento", "vencimiento", "duedate", "faellig",
    ),
    "canonical_invoices.amount": (
        "total", "amount", "amount due", "invoice amount", "invoice total", "total amount", "rechnungsbetrag",
        "betrag", "bruttobetrag", "umsatz", "montant", "montant ttc", "total ttc", "importe", "importe total",
        "gross amount", "balance", "total incl tax", "grand total", "umsatz soll haben", "amount total",
    ),
    "canonical_invoices.amount_paid": (
        "amount paid", "paid amount", "paid", "bezahlt", "bezahlter betrag", "montant paye", "importe pagado",
        "payments", "amount received",
    ),
    "canonical_invoices.paid": ("paid", "is paid", "bezahlt", "paye", "pagado", "settled", "paid flag"),
    "canonical_invoices.paid_date": (
        "paid date", "paid at", "date paid", "payment date", "paid on", "zahlungsdatum", "bezahlt am",
        "date de paiement", "fecha de pago", "fully paid on date", "fullypaidondate",
    ),
    "canonical_invoices.currency": ("currency", "invoice currency", "wahrung", "wkz", "currency code"),
    "canonical_invoices.status": (
        "status", "invoice status", "state", "payment status", "rechnungsstatus", "statut", "estado",
        "zahlungsstatus",
    ),
    # --- payments
    "canonical_payments.external_id": (
        "payment id", "transaction id", "charge id", "id", "payment number", "reference", "zahlungs id",
        "id paiement", "id pago", "receipt number", "payment ref", "transaction reference", "belegnummer",
    ),
    "canonical_payments.invoice_id": (
        "invoice id", "invoice", "invoice number", "rechnungsnummer", "facture", "factura", "numero de facture",
        "applied to", "invoice ref",
    ),
    "canonical_payments.customer_id": (
        "customer id", "customer", "customer email", "customer name", "client", "kunde", "kundennummer",
        "cliente", "payer", "payer email", "account", "card holder", "cardholder name",
    ),
    "canonical_payments.payment_date": (
        "payment date", "date", "created", "created at", "paid at", "zahlungsdatum", "valuta", "value date",
        "date de paiement", "fecha de pago", "transaction date", "received date", "buchungsdatum", "datum",
    ),
    "canonical_payments.amount": (
        "amount", "payment amount", "paid", "amount paid", "betrag", "zahlbetrag", "montant", "importe",
        "monto", "gross", "net", "value", "amount received", "captured amount",
    ),
    "canonical_payments.method": (
        "method", "payment method", "payment type", "card brand", "source", "zahlungsart", "mode de paiement",
        "moyen de paiement", "metodo de pago", "forma de pago", "channel", "payment method type", "type",
    ),
    "canonical_payments.currency": ("currency", "wahrung", "devise", "moneda", "currency code"),
    # --- expenses
    "canonical_expenses.external_id": ("expense id", "report id", "receipt id", "transaction id", "id"),
    "canonical_expenses.expense_date": (
        "expense date", "date", "transaction date", "timestamp", "spend date", "receipt date", "belegdatum",
        "datum", "date de la depense", "fecha del gasto", "fecha", "purchase date", "incurred on",
    ),
    "canonical_expenses.category": (
        "category", "expense category", "expense type", "type", "kategorie", "kostenart", "categorie",
        "categoria", "gl account", "account", "expense account",
    ),
    "canonical_expenses.vendor": (
        "merchant", "vendor", "payee", "supplier", "haendler", "handler", "lieferant", "fournisseur",
        "commercant", "proveedor", "comercio", "store", "description", "merchant name",
    ),
    "canonical_expenses.department": (
        "department", "dept", "cost center", "kostenstelle", "abteilung", "departement", "departamento",
        "centro de coste", "division", "team", "tag", "class",
    ),
    "canonical_expenses.amount": (
        "amount", "total", "expense amount", "betrag", "montant", "importe", "monto", "reimbursable amount",
        "converted amount", "cost", "spend", "value",
    ),
    "canonical_expenses.currency": ("currency", "original currency", "wahrung", "devise", "moneda"),
    "canonical_expenses.employee_id": (
        "employee", "employee id", "employee email", "submitter", "submitted by", "spender", "report owner",
        "mitarbeiter", "employe", "empleado", "owner", "user", "email", "employee name", "cardholder",
    ),
    # --- inventory
    "canonical_inventory.product_id": (
        "product id", "sku", "item", "item id", "item number", "product", "artikelnummer", "material",
        "matnr", "product code", "article", "code article", "codigo producto",
    ),
    "canonical_inventory.warehouse": (
        "warehouse", "location", "lager", "lagerort", "entrepot", "almacen", "site", "plant", "werk",
        "store", "storage location", "bin", "warehouse name",
    ),
    "canonical_inventory.snapshot_date": (
        "snapshot date", "date", "as of", "as of date", "stock date", "inventory date", "stichtag", "datum",
        "date d inventaire", "fecha de inventario", "count date", "report date",
    ),
    "canonical_inventory.quantity_on_hand": (
        "quantity on hand", "on hand", "qty on hand", "stock", "units in stock", "unitsinstock", "available",
        "bestand", "lagerbestand", "menge", "quantite en stock", "stock disponible", "existencias", "quantity",
        "inventory", "in stock", "current stock", "labst",
    ),
    "canonical_inventory.reorder_level": (
        "reorder level", "reorderlevel", "reorder point", "min stock", "minimum stock", "safety stock",
        "mindestbestand", "meldebestand", "seuil de reapprovisionnement", "punto de pedido", "par level",
    ),
}

# Headers that are almost never business facts: left unmapped (or with a low confidence).
NOISE_WORDS: frozenset[str] = frozenset(
    {
        "tags", "tag", "notes", "note", "comment", "comments", "risk", "marketing", "opt", "optin",
        "opted", "subscribed", "subscriber", "newsletter", "consent", "accepts", "row", "index", "line number",
        "fax", "photo", "picture", "path", "url", "homepage", "website", "image", "avatar", "hash", "checksum",
        "updated", "modified", "version", "etag", "internal", "courtesy", "extension", "password",
    }
)
# Whole normalized headers that are noise even though their words are not.
NOISE_HEADERS: frozenset[str] = frozenset(
    {
        "row number", "row", "number", "index", "line", "risk level", "accepts marketing", "email marketing",
        "sms marketing", "marketing opt in", "email opt in", "tags", "note", "notes", "title of courtesy",
        "photo path", "home page", "fax", "extension", "unnamed", "column", "ship via", "freight",
        "updated at", "last modified", "modified date", "last activity date", "lead source", "source",
        "description", "required date", "quantity per unit",
    }
)

# Words that tie a column to the shipping/billing address of an order rather than the canonical entity:
# "Ship City" is where a parcel went, not the customer's city.
ADDRESS_QUALIFIERS: frozenset[str] = frozenset(
    {"ship", "shipping", "billing", "bill", "delivery", "lieferung", "livraison", "envio", "mailing"}
)

# Canonical status vocabularies and what exports say instead (lower-cased source value → canonical).
ORDER_STATUSES = ("pending", "processing", "shipped", "completed", "cancelled", "refunded", "on_hold")
INVOICE_STATUSES = ("draft", "open", "paid", "partially_paid", "overdue", "void")
STATUS_SYNONYMS: dict[str, dict[str, str]] = {
    "canonical_orders.status": {
        "wc-pending": "pending", "pending": "pending", "new": "pending", "open": "pending", "o": "pending",
        "offen": "pending", "neu": "pending", "en attente": "pending", "pendiente": "pending",
        "wc-processing": "processing", "processing": "processing", "in bearbeitung": "processing",
        "en cours": "processing", "en proceso": "processing", "unfulfilled": "processing",
        "partially_fulfilled": "processing", "partial": "processing", "authorized": "processing",
        "shipped": "shipped", "versendet": "shipped", "expedie": "shipped", "enviado": "shipped",
        "fulfilled": "shipped", "in transit": "shipped",
        "wc-completed": "completed", "completed": "completed", "complete": "completed", "c": "completed",
        "closed": "completed", "closed won": "completed", "paid": "completed", "delivered": "completed",
        "abgeschlossen": "completed", "erledigt": "completed", "geliefert": "completed", "termine": "completed",
        "livre": "completed", "completado": "completed", "entregado": "completed", "done": "completed",
        "wc-cancelled": "cancelled", "cancelled": "cancelled", "canceled": "cancelled", "x": "cancelled",
        "storniert": "cancelled", "annule": "cancelled", "cancelado": "cancelled", "closed lost": "cancelled",
        "voided": "cancelled",
        "wc-refunded": "refunded", "refunded": "refunded", "erstattet": "refunded", "rembourse": "refunded",
        "reembolsado": "refunded", "partially_refunded": "refunded",
        "wc-on-hold": "on_hold", "on-hold": "on_hold", "on hold": "on_hold", "h": "on_hold",
        "wc-failed": "cancelled", "failed": "cancelled",
    },
    "canonical_invoices.status": {
        "draft": "draft", "entwurf": "draft", "brouillon": "draft", "borrador": "draft",
        "open": "open", "o": "open", "offen": "open", "unpaid": "open", "outstanding": "open", "sent": "open",
        "submitted": "open", "authorised": "open", "authorized": "open", "awaiting payment": "open",
        "ouvert": "open", "impaye": "open", "pendiente": "open", "abierta": "open", "due": "open",
        "paid": "paid", "c": "paid", "closed": "paid", "bezahlt": "paid", "beglichen": "paid", "paye": "paid",
        "payee": "paid", "pagado": "paid", "pagada": "paid", "settled": "paid", "succeeded": "paid",
        "partially paid": "partially_paid", "partial": "partially_paid", "teilbezahlt": "partially_paid",
        "partiellement paye": "partially_paid", "parcialmente pagada": "partially_paid",
        "overdue": "overdue", "past due": "overdue", "uberfallig": "overdue", "ueberfaellig": "overdue",
        "en retard": "overdue", "vencida": "overdue", "late": "overdue",
        "void": "void", "voided": "void", "deleted": "void", "cancelled": "void", "canceled": "void",
        "storniert": "void", "annulee": "void", "anulada": "void", "uncollectible": "void",
    },
}
