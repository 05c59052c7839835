"""DataFrame implementations of the shop's queries: `<engine>_<query>(tables)`, tables as the engine's frames.

pandas has no SQL interface, so it runs these; Polars runs its function for events_per_region and its SQL
interface for the others. Each returns the engine's result; the harness checks it against DuckDB's answer to
the query's SQL.
"""

def pandas_revenue_by_country(tables):
    import pandas as pd

    orders, customers = tables["orders"], tables["customers"]
    recent = orders[orders["order_date"] >= pd.Timestamp(2025, 2, 1)]  # pandas gets dates as datetime64
    joined = recent.merge(customers, on="customer_id")
    return (joined.groupby("country", sort=True)
            .agg(orders=("order_id", "size"), revenue=("amount", "sum"), items=("quantity", "sum"))
            .reset_index())


def pandas_top_customers_per_month(tables):
    import pandas as pd

    orders = tables["orders"].copy()
    dates = pd.to_datetime(orders["order_date"])
    orders["month"] = dates.dt.year * 100 + dates.dt.month  # yyyymm, as the SQL
    monthly = orders.groupby(["customer_id", "month"], as_index=False).agg(spend=("amount", "sum"))
    monthly = monthly.sort_values(["month", "spend", "customer_id"], ascending=[True, False, True])
    monthly["position"] = monthly.groupby("month").cumcount() + 1
    top = monthly[monthly["position"] <= 3]
    return top[["month", "position", "customer_id", "spend"]].reset_index(drop=True)


def pandas_events_per_region(tables):
    events = tables["events"].copy()
    events["region"] = events["region"].astype(str)
    events["month"] = events["ts"].dt.month
    return events.groupby(["region", "kind", "month"], as_index=False, observed=True).agg(events=("event_id", "size"))


def polars_events_per_region(tables):
    import polars as pl

    return (tables["events"].group_by("region", "kind", pl.col("ts").dt.month().alias("month"))
            .agg(pl.len().alias("events")))
