"""The warehouse backend the settings choose: DuckDB (the embedded default) or BigQuery, and the
tables it holds: the listings, the live listings, the re-pricing runs' suggestions and the live
listings they skipped, each with its schema."""

import pyarrow as pa

from price_alchemy.data.warehouse import Warehouse, WarehouseError
from price_alchemy.schema import (
    ACTIVE_LISTING_SCHEMA,
    LISTING_SCHEMA,
    SKIPPED_SCHEMA,
    SUGGESTION_SCHEMA,
)


def table_schemas(settings) -> dict[str, pa.Schema]:
    """Each warehouse table the settings name, with its schema."""
    return {
        settings.warehouse_table: LISTING_SCHEMA,
        settings.active_table: ACTIVE_LISTING_SCHEMA,
        settings.suggestions_table: SUGGESTION_SCHEMA,
        settings.skipped_table: SKIPPED_SCHEMA,
    }


def open_warehouse(settings, table: str | None = None) -> Warehouse:
    """The warehouse backend the settings choose, on `table` (default: the listings), one of
    the tables of `table_schemas` (BigQuery's client libraries are imported only when it is
    chosen)."""
    table = table or settings.warehouse_table
    schemas = table_schemas(settings)
    if table not in schemas:
        raise WarehouseError(f"unknown table {table!r}: one of {', '.join(schemas)}")
    if settings.warehouse == "bigquery":
        from price_alchemy.data.bigquery_warehouse import BigQueryWarehouse

        return BigQueryWarehouse.from_settings(settings, table, schemas[table])
    from price_alchemy.data.duckdb_warehouse import DuckDBWarehouse

    return DuckDBWarehouse(settings.warehouse_path, table, schemas[table])
