"""The database's half of immutability, and the role groups' admin permissions for billing.

Triggers refuse, for anything that bypasses the models (raw SQL, ``QuerySet.update``):
- changing what an issued invoice says (only its status may move, never back to draft),
  and deleting it;
- inserting, changing or deleting lines of an issued invoice;
- changing or deleting credit notes, their lines, payments, allocations and refunds
  (append-only; corrections are new rows).
Each raises SQLSTATE 23001 with a message ``<code>: <detail>``, which the error
handler turns into a 409 with that code.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

FROZEN = (
    "location_id", "patient_id", "kind", "currency", "number", "number_year", "number_seq", "issued_at",
    "issued_by_id", "subtotal", "tax_total", "total", "notes", "public_id",
)

INVOICE_GUARD = """
CREATE FUNCTION billing_invoice_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    IF OLD.status <> 'draft' THEN
      RAISE EXCEPTION 'invoice_immutable: invoice % is issued and cannot be deleted', OLD.number
        USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN OLD;
  END IF;
  IF OLD.status <> 'draft' AND (NEW.status = 'draft' OR %(changed)s) THEN
    RAISE EXCEPTION 'invoice_immutable: invoice % is issued; correct it with a credit note', OLD.number
      USING ERRCODE = 'restrict_violation';
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER billing_invoice_guard BEFORE UPDATE OR DELETE ON billing_invoice
  FOR EACH ROW EXECUTE FUNCTION billing_invoice_guard();

CREATE FUNCTION billing_invoice_line_guard() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  frozen boolean;
BEGIN
  SELECT bool_or(status <> 'draft') INTO frozen FROM billing_invoice
   WHERE id IN (CASE WHEN TG_OP = 'INSERT' THEN NULL ELSE OLD.invoice_id END,
                CASE WHEN TG_OP = 'DELETE' THEN NULL ELSE NEW.invoice_id END);
  IF frozen THEN
    RAISE EXCEPTION 'invoice_immutable: the invoice is issued; its lines cannot change'
      USING ERRCODE = 'restrict_violation';
  END IF;
  RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
END $$;
CREATE TRIGGER billing_invoice_line_guard BEFORE INSERT OR UPDATE OR DELETE ON billing_invoiceline
  FOR EACH ROW EXECUTE FUNCTION billing_invoice_line_guard();

CREATE FUNCTION billing_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'record_immutable: % rows are append-only; record a correction instead', TG_TABLE_NAME
    USING ERRCODE = 'restrict_violation';
END $$;
""".replace("%(changed)s", " OR ".join(f"NEW.{column} IS DISTINCT FROM OLD.{column}" for column in FROZEN))

APPEND_ONLY = ("billing_creditnote", "billing_creditnoteline", "billing_payment", "billing_paymentallocation",
               "billing_refund", "billing_packagesession")

SQL = INVOICE_GUARD + "".join(
    f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
    "FOR EACH ROW EXECUTE FUNCTION billing_append_only();\n"
    for table in APPEND_ONLY
)
REVERSE = "".join(f"DROP TRIGGER {table}_append_only ON {table};\n" for table in APPEND_ONLY) + """
DROP TRIGGER billing_invoice_line_guard ON billing_invoiceline;
DROP TRIGGER billing_invoice_guard ON billing_invoice;
DROP FUNCTION billing_append_only(); DROP FUNCTION billing_invoice_line_guard(); DROP FUNCTION billing_invoice_guard();
"""

READ = ("view",)
GRANTS = {
    "reception": {"invoice": READ, "invoiceline": READ, "payment": ("view", "add"), "package": READ,
                  "packagesale": ("view", "add"), "creditnote": READ, "refund": READ, "document": READ},
    "accountant": {"invoice": ("view", "add", "change"), "invoiceline": ("view", "add", "change", "delete"),
                   "payment": ("view", "add"), "creditnote": ("view", "add"), "refund": ("view", "add"),
                   "package": READ, "packagesale": READ, "feescheduleitem": READ, "billingpolicy": READ,
                   "document": READ},
}  # fmt: skip


def grant(apps, schema_editor):
    config = apps.get_app_config("billing")
    config.models_module = True
    create_permissions(config, verbosity=0, apps=apps)
    config.models_module = None
    group_model = apps.get_model("auth", "Group")
    permission_model = apps.get_model("auth", "Permission")
    admin = group_model.objects.get_or_create(name="admin")[0]
    admin.permissions.add(*permission_model.objects.filter(content_type__app_label="billing"))
    for role, models in GRANTS.items():
        group = group_model.objects.get_or_create(name=role)[0]
        for model, actions in models.items():
            codenames = [f"{action}_{model}" for action in actions]
            group.permissions.add(
                *permission_model.objects.filter(content_type__app_label="billing", codename__in=codenames)
            )


class Migration(migrations.Migration):
    dependencies = [("billing", "0001_initial"), ("scheduling", "0003_role_permissions")]

    operations = [
        migrations.RunSQL(SQL, REVERSE),
        migrations.RunPython(grant, migrations.RunPython.noop),
    ]
