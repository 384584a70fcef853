"""The warehouse backend the settings choose: DuckDB (the embedded default) or BigQuery."""

from price_alchemy.data.warehouse import Warehouse


def open_warehouse(settings) -> Warehouse:
    """The warehouse backend the settings choose (BigQuery's client libraries are imported
    only when it is chosen)."""
    if settings.warehouse == "bigquery":
        from price_alchemy.data.bigquery_warehouse import BigQueryWarehouse

        return BigQueryWarehouse.from_settings(settings)
    from price_alchemy.data.duckdb_warehouse import DuckDBWarehouse

    return DuckDBWarehouse(settings.warehouse_path, settings.warehouse_table)
