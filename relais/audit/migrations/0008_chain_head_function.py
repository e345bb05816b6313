"""On PostgreSQL, taking the chain's lock and reading its head is one call to the server.

Each statement of a volatile PL/pgSQL function reads with a snapshot taken when that
statement starts: the head is read after the lock is held, as with two statements, at the
cost of one round trip instead of two.
"""

from django.db import migrations

# The key of the lock that serialises appends (relais/audit/services.py).
CHAIN_LOCK_KEY = 0x52454C414953

CREATE = f"""
CREATE OR REPLACE FUNCTION audit_chain_head() RETURNS TABLE(seq bigint, hash varchar) AS $$
BEGIN
    PERFORM pg_advisory_xact_lock({CHAIN_LOCK_KEY});
    RETURN QUERY SELECT a.seq, a.hash FROM audit_auditevent a ORDER BY a.seq DESC LIMIT 1;
END;
$$ LANGUAGE plpgsql VOLATILE;
"""

DROP = "DROP FUNCTION audit_chain_head();"


def create_function(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)


def drop_function(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("audit", "0007_journal_trim")]

    operations = [migrations.RunPython(create_function, drop_function)]
