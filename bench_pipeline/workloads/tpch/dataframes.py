"""TPC-H in the DataFrame APIs of Polars and pandas: `polars_qNN(tables)` and `pandas_qNN(tables)`.

Each is the query of queries/qNN.sql (same parameters, same tie-breaking keys, same
column names) written as a user of that library would: Polars on LazyFrames from
`scan_parquet` (the plan is optimised and run when the harness collects it), pandas
on DataFrames read whole, with decimals as float64 and dates as datetime64 (see
workloads/execute.py). The harness checks every answer against DuckDB's answer to the
SQL. Libraries are imported inside the functions: this module is loaded by every
engine's worker, and DuckDB's cold run should not pay for importing pandas.
"""

import datetime as dt
from decimal import Decimal

ASIA, EUROPE, AMERICA = "ASIA", "EUROPE", "AMERICA"
Q22_CODES = ["13", "31", "23", "29", "30", "18", "17"]


def _d(year, month, day):
    return dt.date(year, month, day)


def _ts(year, month, day):
    import pandas as pd  # pandas: only where it is used

    return pd.Timestamp(year, month, day)


# -- Polars ----------------------------------------------------------------------------------------------------

def _pl_revenue():
    import polars as pl  # polars: only where it is used

    return pl.col("l_extendedprice") * (1 - pl.col("l_discount"))


def _pl_total(expr):
    """SUM as SQL has it: null over no rows (Polars' sum of nothing is 0; tiny scale factors select nothing)."""
    import polars as pl  # polars: only where it is used

    return pl.when(pl.len() > 0).then(expr.sum())


def polars_q01(t):
    import polars as pl  # polars: only where it is used

    disc_price = _pl_revenue()
    return (t["lineitem"].filter(pl.col("l_shipdate") <= _d(1998, 9, 2))
            .group_by("l_returnflag", "l_linestatus")
            .agg(pl.col("l_quantity").sum().alias("sum_qty"),
                 pl.col("l_extendedprice").sum().alias("sum_base_price"),
                 disc_price.sum().alias("sum_disc_price"),
                 (disc_price * (1 + pl.col("l_tax"))).sum().alias("sum_charge"),
                 pl.col("l_quantity").mean().alias("avg_qty"),
                 pl.col("l_extendedprice").mean().alias("avg_price"),
                 pl.col("l_discount").mean().alias("avg_disc"),
                 pl.len().alias("count_order"))
            .sort("l_returnflag", "l_linestatus"))


def polars_q02(t):
    import polars as pl  # polars: only where it is used

    europe = (t["region"].filter(pl.col("r_name") == EUROPE)
              .join(t["nation"], left_on="r_regionkey", right_on="n_regionkey")
              .join(t["supplier"], left_on="n_nationkey", right_on="s_nationkey")
              .join(t["partsupp"], left_on="s_suppkey", right_on="ps_suppkey"))
    parts = t["part"].filter((pl.col("p_size") == 15) & pl.col("p_type").str.ends_with("BRASS"))
    offers = parts.join(europe, left_on="p_partkey", right_on="ps_partkey")
    return (offers.filter(pl.col("ps_supplycost") == pl.col("ps_supplycost").min().over("p_partkey"))
            .select("s_acctbal", "s_name", "n_name", "p_partkey", "p_mfgr", "s_address", "s_phone", "s_comment")
            .sort("s_acctbal", "n_name", "s_name", "p_partkey", descending=[True, False, False, False])
            .head(100))


def polars_q03(t):
    import polars as pl  # polars: only where it is used

    customers = t["customer"].filter(pl.col("c_mktsegment") == "BUILDING")
    orders = t["orders"].filter(pl.col("o_orderdate") < _d(1995, 3, 15))
    lines = t["lineitem"].filter(pl.col("l_shipdate") > _d(1995, 3, 15))
    return (customers.join(orders, left_on="c_custkey", right_on="o_custkey")
            .join(lines, left_on="o_orderkey", right_on="l_orderkey")
            .group_by("o_orderkey", "o_orderdate", "o_shippriority")
            .agg(_pl_revenue().sum().alias("revenue"))
            .select(pl.col("o_orderkey").alias("l_orderkey"), "revenue", "o_orderdate", "o_shippriority")
            .sort("revenue", "o_orderdate", "l_orderkey", descending=[True, False, False])
            .head(10))


def polars_q04(t):
    import polars as pl  # polars: only where it is used

    late = t["lineitem"].filter(pl.col("l_commitdate") < pl.col("l_receiptdate"))
    return (t["orders"].filter(pl.col("o_orderdate").is_between(_d(1993, 7, 1), _d(1993, 10, 1), closed="left"))
            .join(late, left_on="o_orderkey", right_on="l_orderkey", how="semi")
            .group_by("o_orderpriority").agg(pl.len().alias("order_count"))
            .sort("o_orderpriority"))


def polars_q05(t):
    import polars as pl  # polars: only where it is used

    suppliers = (t["region"].filter(pl.col("r_name") == ASIA)
                 .join(t["nation"], left_on="r_regionkey", right_on="n_regionkey")
                 .join(t["supplier"], left_on="n_nationkey", right_on="s_nationkey"))
    orders = t["orders"].filter(pl.col("o_orderdate").is_between(_d(1994, 1, 1), _d(1995, 1, 1), closed="left"))
    return (t["customer"].join(orders, left_on="c_custkey", right_on="o_custkey")
            .join(t["lineitem"], left_on="o_orderkey", right_on="l_orderkey")
            .join(suppliers, left_on=["l_suppkey", "c_nationkey"], right_on=["s_suppkey", "n_nationkey"])
            .group_by("n_name").agg(_pl_revenue().sum().alias("revenue"))
            .sort("revenue", descending=True))


def polars_q06(t):
    import polars as pl  # polars: only where it is used

    return (t["lineitem"]
            .filter(pl.col("l_shipdate").is_between(_d(1994, 1, 1), _d(1995, 1, 1), closed="left")
                    & pl.col("l_discount").is_between(Decimal("0.05"), Decimal("0.07"))
                    & (pl.col("l_quantity") < 24))
            .select(_pl_total(pl.col("l_extendedprice") * pl.col("l_discount")).alias("revenue")))


def polars_q07(t):
    import polars as pl  # polars: only where it is used

    pair = ["FRANCE", "GERMANY"]
    nations = t["nation"].filter(pl.col("n_name").is_in(pair))
    supp_nation = nations.select(pl.col("n_nationkey").alias("supp_key"), pl.col("n_name").alias("supp_nation"))
    cust_nation = nations.select(pl.col("n_nationkey").alias("cust_key"), pl.col("n_name").alias("cust_nation"))
    return (t["lineitem"].filter(pl.col("l_shipdate").is_between(_d(1995, 1, 1), _d(1996, 12, 31)))
            .join(t["supplier"], left_on="l_suppkey", right_on="s_suppkey")
            .join(supp_nation, left_on="s_nationkey", right_on="supp_key")
            .join(t["orders"], left_on="l_orderkey", right_on="o_orderkey")
            .join(t["customer"], left_on="o_custkey", right_on="c_custkey")
            .join(cust_nation, left_on="c_nationkey", right_on="cust_key")
            .filter(pl.col("supp_nation") != pl.col("cust_nation"))
            .group_by("supp_nation", "cust_nation", pl.col("l_shipdate").dt.year().alias("l_year"))
            .agg(_pl_revenue().sum().alias("revenue"))
            .sort("supp_nation", "cust_nation", "l_year"))


def polars_q08(t):
    import polars as pl  # polars: only where it is used

    america = (t["region"].filter(pl.col("r_name") == AMERICA)
               .join(t["nation"], left_on="r_regionkey", right_on="n_regionkey").select("n_nationkey"))
    supp_nation = t["nation"].select(pl.col("n_nationkey").alias("supp_key"), pl.col("n_name").alias("nation"))
    volume = _pl_revenue()
    return (t["part"].filter(pl.col("p_type") == "ECONOMY ANODIZED STEEL")
            .join(t["lineitem"], left_on="p_partkey", right_on="l_partkey")
            .join(t["orders"].filter(pl.col("o_orderdate").is_between(_d(1995, 1, 1), _d(1996, 12, 31))),
                  left_on="l_orderkey", right_on="o_orderkey")
            .join(t["customer"], left_on="o_custkey", right_on="c_custkey")
            .join(america, left_on="c_nationkey", right_on="n_nationkey", how="semi")
            .join(t["supplier"], left_on="l_suppkey", right_on="s_suppkey")
            .join(supp_nation, left_on="s_nationkey", right_on="supp_key")
            .group_by(pl.col("o_orderdate").dt.year().alias("o_year"))
            .agg((pl.when(pl.col("nation") == "BRAZIL").then(volume).otherwise(0).sum() / volume.sum())
                 .alias("mkt_share"))
            .sort("o_year"))


def polars_q09(t):
    import polars as pl  # polars: only where it is used

    return (t["part"].filter(pl.col("p_name").str.contains("green", literal=True))
            .join(t["lineitem"], left_on="p_partkey", right_on="l_partkey")
            .join(t["partsupp"], left_on=["l_suppkey", "p_partkey"], right_on=["ps_suppkey", "ps_partkey"])
            .join(t["supplier"], left_on="l_suppkey", right_on="s_suppkey")
            .join(t["orders"], left_on="l_orderkey", right_on="o_orderkey")
            .join(t["nation"], left_on="s_nationkey", right_on="n_nationkey")
            .group_by(pl.col("n_name").alias("nation"), pl.col("o_orderdate").dt.year().alias("o_year"))
            .agg((_pl_revenue() - pl.col("ps_supplycost") * pl.col("l_quantity")).sum().alias("sum_profit"))
            .sort("nation", "o_year", descending=[False, True]))


def polars_q10(t):
    import polars as pl  # polars: only where it is used

    orders = t["orders"].filter(pl.col("o_orderdate").is_between(_d(1993, 10, 1), _d(1994, 1, 1), closed="left"))
    return (t["customer"].join(orders, left_on="c_custkey", right_on="o_custkey")
            .join(t["lineitem"].filter(pl.col("l_returnflag") == "R"), left_on="o_orderkey", right_on="l_orderkey")
            .join(t["nation"], left_on="c_nationkey", right_on="n_nationkey")
            .group_by("c_custkey", "c_name", "c_acctbal", "c_phone", "n_name", "c_address", "c_comment")
            .agg(_pl_revenue().sum().alias("revenue"))
            .select("c_custkey", "c_name", "revenue", "c_acctbal", "n_name", "c_address", "c_phone", "c_comment")
            .sort("revenue", "c_custkey", descending=[True, False])
            .head(20))


def polars_q11(t):
    import polars as pl  # polars: only where it is used

    german = (t["partsupp"].join(t["supplier"], left_on="ps_suppkey", right_on="s_suppkey")
              .join(t["nation"].filter(pl.col("n_name") == "GERMANY"), left_on="s_nationkey", right_on="n_nationkey")
              .with_columns((pl.col("ps_supplycost") * pl.col("ps_availqty")).alias("value")))
    threshold = german.select((pl.col("value").sum() * Decimal("0.0001")).alias("threshold"))
    return (german.group_by("ps_partkey").agg(pl.col("value").sum())
            .join(threshold, how="cross")
            .filter(pl.col("value") > pl.col("threshold"))
            .select("ps_partkey", "value")
            .sort("value", "ps_partkey", descending=[True, False]))


def polars_q12(t):
    import polars as pl  # polars: only where it is used

    high = pl.col("o_orderpriority").is_in(["1-URGENT", "2-HIGH"])
    lines = t["lineitem"].filter(pl.col("l_shipmode").is_in(["MAIL", "SHIP"])
                                 & (pl.col("l_commitdate") < pl.col("l_receiptdate"))
                                 & (pl.col("l_shipdate") < pl.col("l_commitdate"))
                                 & pl.col("l_receiptdate").is_between(_d(1994, 1, 1), _d(1995, 1, 1), closed="left"))
    return (lines.join(t["orders"], left_on="l_orderkey", right_on="o_orderkey")
            .group_by("l_shipmode")
            .agg(high.sum().alias("high_line_count"), (~high).sum().alias("low_line_count"))
            .sort("l_shipmode"))


def polars_q13(t):
    import polars as pl  # polars: only where it is used

    orders = t["orders"].filter(~pl.col("o_comment").str.contains("special.*requests"))
    return (t["customer"].join(orders, left_on="c_custkey", right_on="o_custkey", how="left")
            .group_by("c_custkey").agg(pl.col("o_orderkey").count().alias("c_count"))
            .group_by("c_count").agg(pl.len().alias("custdist"))
            .sort("custdist", "c_count", descending=[True, True]))


def polars_q14(t):
    import polars as pl  # polars: only where it is used

    revenue = _pl_revenue()
    return (t["lineitem"].filter(pl.col("l_shipdate").is_between(_d(1995, 9, 1), _d(1995, 10, 1), closed="left"))
            .join(t["part"], left_on="l_partkey", right_on="p_partkey")
            .select((100.00 * _pl_total(pl.when(pl.col("p_type").str.starts_with("PROMO")).then(revenue)
                                        .otherwise(0)) / _pl_total(revenue)).alias("promo_revenue")))


def polars_q15(t):
    import polars as pl  # polars: only where it is used

    revenue = (t["lineitem"].filter(pl.col("l_shipdate").is_between(_d(1996, 1, 1), _d(1996, 4, 1), closed="left"))
               .group_by(pl.col("l_suppkey").alias("supplier_no"))
               .agg(_pl_revenue().sum().alias("total_revenue")))
    return (t["supplier"].join(revenue, left_on="s_suppkey", right_on="supplier_no")
            .filter(pl.col("total_revenue") == pl.col("total_revenue").max())
            .select("s_suppkey", "s_name", "s_address", "s_phone", "total_revenue")
            .sort("s_suppkey"))


def polars_q16(t):
    import polars as pl  # polars: only where it is used

    complainers = t["supplier"].filter(pl.col("s_comment").str.contains("Customer.*Complaints"))
    parts = t["part"].filter((pl.col("p_brand") != "Brand#45")
                             & ~pl.col("p_type").str.starts_with("MEDIUM POLISHED")
                             & pl.col("p_size").is_in([49, 14, 23, 45, 19, 3, 36, 9]))
    return (t["partsupp"].join(parts, left_on="ps_partkey", right_on="p_partkey")
            .join(complainers, left_on="ps_suppkey", right_on="s_suppkey", how="anti")
            .group_by("p_brand", "p_type", "p_size").agg(pl.col("ps_suppkey").n_unique().alias("supplier_cnt"))
            .sort("supplier_cnt", "p_brand", "p_type", "p_size", descending=[True, False, False, False]))


def polars_q17(t):
    import polars as pl  # polars: only where it is used

    lines = (t["part"].filter((pl.col("p_brand") == "Brand#23") & (pl.col("p_container") == "MED BOX"))
             .join(t["lineitem"], left_on="p_partkey", right_on="l_partkey"))
    return (lines.filter(pl.col("l_quantity") < 0.2 * pl.col("l_quantity").mean().over("p_partkey"))
            .select((_pl_total(pl.col("l_extendedprice")) / 7.0).alias("avg_yearly")))


def polars_q18(t):
    import polars as pl  # polars: only where it is used

    big = (t["lineitem"].group_by("l_orderkey").agg(pl.col("l_quantity").sum().alias("sum_qty"))
           .filter(pl.col("sum_qty") > 300))
    return (big.join(t["orders"], left_on="l_orderkey", right_on="o_orderkey")
            .join(t["customer"], left_on="o_custkey", right_on="c_custkey")
            .select("c_name", pl.col("o_custkey").alias("c_custkey"), pl.col("l_orderkey").alias("o_orderkey"),
                    "o_orderdate", "o_totalprice", "sum_qty")
            .sort("o_totalprice", "o_orderdate", "o_orderkey", descending=[True, False, False])
            .head(100))


def polars_q19(t):
    import polars as pl  # polars: only where it is used

    def group(brand, containers, low, high, size):
        return ((pl.col("p_brand") == brand) & pl.col("p_container").is_in(containers)
                & pl.col("l_quantity").is_between(low, high) & pl.col("p_size").is_between(1, size))

    lines = t["lineitem"].filter(pl.col("l_shipmode").is_in(["AIR", "AIR REG"])
                                 & (pl.col("l_shipinstruct") == "DELIVER IN PERSON"))
    return (lines.join(t["part"], left_on="l_partkey", right_on="p_partkey")
            .filter(group("Brand#12", ["SM CASE", "SM BOX", "SM PACK", "SM PKG"], 1, 11, 5)
                    | group("Brand#23", ["MED BAG", "MED BOX", "MED PKG", "MED PACK"], 10, 20, 10)
                    | group("Brand#34", ["LG CASE", "LG BOX", "LG PACK", "LG PKG"], 20, 30, 15))
            .select(_pl_total(_pl_revenue()).alias("revenue")))


def polars_q20(t):
    import polars as pl  # polars: only where it is used

    shipped = (t["lineitem"].filter(pl.col("l_shipdate").is_between(_d(1994, 1, 1), _d(1995, 1, 1), closed="left"))
               .group_by("l_partkey", "l_suppkey").agg((0.5 * pl.col("l_quantity").sum()).alias("half_shipped")))
    forest = t["part"].filter(pl.col("p_name").str.starts_with("forest"))
    offers = (t["partsupp"].join(forest, left_on="ps_partkey", right_on="p_partkey", how="semi")
              .join(shipped, left_on=["ps_partkey", "ps_suppkey"], right_on=["l_partkey", "l_suppkey"])
              .filter(pl.col("ps_availqty") > pl.col("half_shipped")))
    return (t["supplier"].join(t["nation"].filter(pl.col("n_name") == "CANADA"),
                               left_on="s_nationkey", right_on="n_nationkey")
            .join(offers, left_on="s_suppkey", right_on="ps_suppkey", how="semi")
            .select("s_name", "s_address")
            .sort("s_name"))


def polars_q21(t):
    import polars as pl  # polars: only where it is used

    lineitem = t["lineitem"]
    late = lineitem.filter(pl.col("l_receiptdate") > pl.col("l_commitdate"))
    # EXISTS another supplier on the order; NOT EXISTS another *late* supplier on it.
    shared = lineitem.group_by("l_orderkey").agg(pl.col("l_suppkey").n_unique().alias("suppliers"))
    late_alone = late.group_by("l_orderkey").agg(pl.col("l_suppkey").n_unique().alias("late_suppliers"))
    saudi = (t["supplier"].join(t["nation"].filter(pl.col("n_name") == "SAUDI ARABIA"),
                                left_on="s_nationkey", right_on="n_nationkey"))
    return (late.join(saudi, left_on="l_suppkey", right_on="s_suppkey")
            .join(t["orders"].filter(pl.col("o_orderstatus") == "F"),
                  left_on="l_orderkey", right_on="o_orderkey", how="semi")
            .join(shared.filter(pl.col("suppliers") > 1), on="l_orderkey", how="semi")
            .join(late_alone.filter(pl.col("late_suppliers") == 1), on="l_orderkey", how="semi")
            .group_by("s_name").agg(pl.len().alias("numwait"))
            .sort("numwait", "s_name", descending=[True, False])
            .head(100))


def polars_q22(t):
    import polars as pl  # polars: only where it is used

    customers = (t["customer"].with_columns(pl.col("c_phone").str.slice(0, 2).alias("cntrycode"))
                 .filter(pl.col("cntrycode").is_in(Q22_CODES)))
    average = customers.filter(pl.col("c_acctbal") > 0).select(pl.col("c_acctbal").mean().alias("average"))
    return (customers.join(t["orders"], left_on="c_custkey", right_on="o_custkey", how="anti")
            .join(average, how="cross")
            .filter(pl.col("c_acctbal") > pl.col("average"))
            .group_by("cntrycode").agg(pl.len().alias("numcust"), pl.col("c_acctbal").sum().alias("totacctbal"))
            .sort("cntrycode"))


# -- pandas ----------------------------------------------------------------------------------------------------

def _pd_revenue(df):
    return df["l_extendedprice"] * (1 - df["l_discount"])


def _between(column, low, high, closed="both"):
    return column.between(low, high, inclusive=closed)


def pandas_q01(t):
    li = t["lineitem"]
    li = li[li["l_shipdate"] <= _ts(1998, 9, 2)]
    disc_price = _pd_revenue(li)
    li = li.assign(disc_price=disc_price, charge=disc_price * (1 + li["l_tax"]))
    return (li.groupby(["l_returnflag", "l_linestatus"], as_index=False, sort=True)
            .agg(sum_qty=("l_quantity", "sum"), sum_base_price=("l_extendedprice", "sum"),
                 sum_disc_price=("disc_price", "sum"), sum_charge=("charge", "sum"),
                 avg_qty=("l_quantity", "mean"), avg_price=("l_extendedprice", "mean"),
                 avg_disc=("l_discount", "mean"), count_order=("l_quantity", "size")))


def pandas_q02(t):
    region, nation, supplier, partsupp, part = (t[n] for n in ("region", "nation", "supplier", "partsupp", "part"))
    europe = (region[region["r_name"] == EUROPE]
              .merge(nation, left_on="r_regionkey", right_on="n_regionkey")
              .merge(supplier, left_on="n_nationkey", right_on="s_nationkey")
              .merge(partsupp, left_on="s_suppkey", right_on="ps_suppkey"))
    parts = part[(part["p_size"] == 15) & part["p_type"].str.endswith("BRASS")]
    offers = parts.merge(europe, left_on="p_partkey", right_on="ps_partkey")
    offers = offers[offers["ps_supplycost"] == offers.groupby("p_partkey")["ps_supplycost"].transform("min")]
    offers = offers.sort_values(["s_acctbal", "n_name", "s_name", "p_partkey"], ascending=[False, True, True, True])
    return offers[["s_acctbal", "s_name", "n_name", "p_partkey", "p_mfgr", "s_address", "s_phone",
                   "s_comment"]].head(100)


def pandas_q03(t):
    customer, orders, lineitem = t["customer"], t["orders"], t["lineitem"]
    joined = (customer[customer["c_mktsegment"] == "BUILDING"]
              .merge(orders[orders["o_orderdate"] < _ts(1995, 3, 15)], left_on="c_custkey", right_on="o_custkey")
              .merge(lineitem[lineitem["l_shipdate"] > _ts(1995, 3, 15)], left_on="o_orderkey",
                     right_on="l_orderkey"))
    joined["revenue"] = _pd_revenue(joined)
    top = (joined.groupby(["l_orderkey", "o_orderdate", "o_shippriority"], as_index=False)
           .agg(revenue=("revenue", "sum"))
           .sort_values(["revenue", "o_orderdate", "l_orderkey"], ascending=[False, True, True]).head(10))
    return top[["l_orderkey", "revenue", "o_orderdate", "o_shippriority"]]


def pandas_q04(t):
    orders, lineitem = t["orders"], t["lineitem"]
    late = lineitem.loc[lineitem["l_commitdate"] < lineitem["l_receiptdate"], "l_orderkey"].unique()
    orders = orders[_between(orders["o_orderdate"], _ts(1993, 7, 1), _ts(1993, 10, 1), "left")]
    orders = orders[orders["o_orderkey"].isin(late)]
    return (orders.groupby("o_orderpriority", as_index=False, sort=True)
            .agg(order_count=("o_orderkey", "size")))


def pandas_q05(t):
    region, nation, supplier = t["region"], t["nation"], t["supplier"]
    suppliers = (region[region["r_name"] == ASIA]
                 .merge(nation, left_on="r_regionkey", right_on="n_regionkey")
                 .merge(supplier, left_on="n_nationkey", right_on="s_nationkey"))
    orders = t["orders"]
    orders = orders[_between(orders["o_orderdate"], _ts(1994, 1, 1), _ts(1995, 1, 1), "left")]
    joined = (t["customer"].merge(orders, left_on="c_custkey", right_on="o_custkey")
              .merge(t["lineitem"], left_on="o_orderkey", right_on="l_orderkey")
              .merge(suppliers, left_on=["l_suppkey", "c_nationkey"], right_on=["s_suppkey", "n_nationkey"]))
    joined["revenue"] = _pd_revenue(joined)
    return (joined.groupby("n_name", as_index=False).agg(revenue=("revenue", "sum"))
            .sort_values("revenue", ascending=False))


def pandas_q06(t):
    li = t["lineitem"]
    li = li[_between(li["l_shipdate"], _ts(1994, 1, 1), _ts(1995, 1, 1), "left")
            & _between(li["l_discount"], 0.05, 0.07) & (li["l_quantity"] < 24)]
    import pandas as pd  # pandas: only where it is used

    return pd.DataFrame({"revenue": [(li["l_extendedprice"] * li["l_discount"]).sum(min_count=1)]})


def pandas_q07(t):
    nation = t["nation"]
    nations = nation[nation["n_name"].isin(["FRANCE", "GERMANY"])]
    supp_nation = nations.rename(columns={"n_nationkey": "supp_key", "n_name": "supp_nation"})[
        ["supp_key", "supp_nation"]]
    cust_nation = nations.rename(columns={"n_nationkey": "cust_key", "n_name": "cust_nation"})[
        ["cust_key", "cust_nation"]]
    lineitem = t["lineitem"]
    lines = lineitem[_between(lineitem["l_shipdate"], _ts(1995, 1, 1), _ts(1996, 12, 31))]
    joined = (lines.merge(t["supplier"], left_on="l_suppkey", right_on="s_suppkey")
              .merge(supp_nation, left_on="s_nationkey", right_on="supp_key")
              .merge(t["orders"], left_on="l_orderkey", right_on="o_orderkey")
              .merge(t["customer"], left_on="o_custkey", right_on="c_custkey")
              .merge(cust_nation, left_on="c_nationkey", right_on="cust_key"))
    joined = joined[joined["supp_nation"] != joined["cust_nation"]]
    joined = joined.assign(l_year=joined["l_shipdate"].dt.year, volume=_pd_revenue(joined))
    return (joined.groupby(["supp_nation", "cust_nation", "l_year"], as_index=False, sort=True)
            .agg(revenue=("volume", "sum")))


def pandas_q08(t):
    region, nation, part, orders = t["region"], t["nation"], t["part"], t["orders"]
    america = (region[region["r_name"] == AMERICA]
               .merge(nation, left_on="r_regionkey", right_on="n_regionkey")["n_nationkey"])
    supp_nation = nation.rename(columns={"n_nationkey": "supp_key", "n_name": "nation"})[["supp_key", "nation"]]
    orders = orders[_between(orders["o_orderdate"], _ts(1995, 1, 1), _ts(1996, 12, 31))]
    joined = (part[part["p_type"] == "ECONOMY ANODIZED STEEL"]
              .merge(t["lineitem"], left_on="p_partkey", right_on="l_partkey")
              .merge(orders, left_on="l_orderkey", right_on="o_orderkey")
              .merge(t["customer"], left_on="o_custkey", right_on="c_custkey"))
    joined = (joined[joined["c_nationkey"].isin(america)]
              .merge(t["supplier"], left_on="l_suppkey", right_on="s_suppkey")
              .merge(supp_nation, left_on="s_nationkey", right_on="supp_key"))
    volume = _pd_revenue(joined)
    joined = joined.assign(o_year=joined["o_orderdate"].dt.year, volume=volume,
                           brazil=volume.where(joined["nation"] == "BRAZIL", 0.0))
    shares = joined.groupby("o_year", as_index=False, sort=True).agg(brazil=("brazil", "sum"),
                                                                       volume=("volume", "sum"))
    shares["mkt_share"] = shares["brazil"] / shares["volume"]
    return shares[["o_year", "mkt_share"]]


def pandas_q09(t):
    part = t["part"]
    joined = (part[part["p_name"].str.contains("green", regex=False)]
              .merge(t["lineitem"], left_on="p_partkey", right_on="l_partkey")
              .merge(t["partsupp"], left_on=["l_suppkey", "p_partkey"], right_on=["ps_suppkey", "ps_partkey"])
              .merge(t["supplier"], left_on="l_suppkey", right_on="s_suppkey")
              .merge(t["orders"], left_on="l_orderkey", right_on="o_orderkey")
              .merge(t["nation"], left_on="s_nationkey", right_on="n_nationkey"))
    joined = joined.assign(nation=joined["n_name"], o_year=joined["o_orderdate"].dt.year,
                           amount=_pd_revenue(joined) - joined["ps_supplycost"] * joined["l_quantity"])
    return (joined.groupby(["nation", "o_year"], as_index=False).agg(sum_profit=("amount", "sum"))
            .sort_values(["nation", "o_year"], ascending=[True, False]))


def pandas_q10(t):
    orders, lineitem = t["orders"], t["lineitem"]
    orders = orders[_between(orders["o_orderdate"], _ts(1993, 10, 1), _ts(1994, 1, 1), "left")]
    joined = (t["customer"].merge(orders, left_on="c_custkey", right_on="o_custkey")
              .merge(lineitem[lineitem["l_returnflag"] == "R"], left_on="o_orderkey", right_on="l_orderkey")
              .merge(t["nation"], left_on="c_nationkey", right_on="n_nationkey"))
    joined["revenue"] = _pd_revenue(joined)
    keys = ["c_custkey", "c_name", "c_acctbal", "c_phone", "n_name", "c_address", "c_comment"]
    top = (joined.groupby(keys, as_index=False).agg(revenue=("revenue", "sum"))
           .sort_values(["revenue", "c_custkey"], ascending=[False, True]).head(20))
    return top[["c_custkey", "c_name", "revenue", "c_acctbal", "n_name", "c_address", "c_phone", "c_comment"]]


def pandas_q11(t):
    nation = t["nation"]
    german = (t["partsupp"].merge(t["supplier"], left_on="ps_suppkey", right_on="s_suppkey")
              .merge(nation[nation["n_name"] == "GERMANY"], left_on="s_nationkey", right_on="n_nationkey"))
    german["value"] = german["ps_supplycost"] * german["ps_availqty"]
    threshold = german["value"].sum() * 0.0001
    values = german.groupby("ps_partkey", as_index=False).agg(value=("value", "sum"))
    return values[values["value"] > threshold].sort_values(["value", "ps_partkey"], ascending=[False, True])


def pandas_q12(t):
    lineitem = t["lineitem"]
    lines = lineitem[lineitem["l_shipmode"].isin(["MAIL", "SHIP"])
                     & (lineitem["l_commitdate"] < lineitem["l_receiptdate"])
                     & (lineitem["l_shipdate"] < lineitem["l_commitdate"])
                     & _between(lineitem["l_receiptdate"], _ts(1994, 1, 1), _ts(1995, 1, 1), "left")]
    joined = lines.merge(t["orders"], left_on="l_orderkey", right_on="o_orderkey")
    high = joined["o_orderpriority"].isin(["1-URGENT", "2-HIGH"])
    joined = joined.assign(high=high.astype("int64"), low=(~high).astype("int64"))
    return (joined.groupby("l_shipmode", as_index=False, sort=True)
            .agg(high_line_count=("high", "sum"), low_line_count=("low", "sum")))


def pandas_q13(t):
    orders = t["orders"]
    orders = orders[~orders["o_comment"].str.contains("special.*requests", regex=True)]
    joined = t["customer"].merge(orders, left_on="c_custkey", right_on="o_custkey", how="left")
    counts = joined.groupby("c_custkey", as_index=False).agg(c_count=("o_orderkey", "count"))
    return (counts.groupby("c_count", as_index=False).agg(custdist=("c_custkey", "size"))
            .sort_values(["custdist", "c_count"], ascending=[False, False]))


def pandas_q14(t):
    import pandas as pd  # pandas: only where it is used

    lineitem = t["lineitem"]
    lines = lineitem[_between(lineitem["l_shipdate"], _ts(1995, 9, 1), _ts(1995, 10, 1), "left")]
    joined = lines.merge(t["part"], left_on="l_partkey", right_on="p_partkey")
    revenue = _pd_revenue(joined)
    promo = revenue.where(joined["p_type"].str.startswith("PROMO"), 0.0)
    return pd.DataFrame({"promo_revenue": [100.00 * promo.sum(min_count=1) / revenue.sum(min_count=1)]})


def pandas_q15(t):
    lineitem = t["lineitem"]
    lines = lineitem[_between(lineitem["l_shipdate"], _ts(1996, 1, 1), _ts(1996, 4, 1), "left")]
    revenue = (lines.assign(revenue=_pd_revenue(lines))
               .groupby("l_suppkey", as_index=False).agg(total_revenue=("revenue", "sum"))
               .rename(columns={"l_suppkey": "supplier_no"}))
    best = revenue[revenue["total_revenue"] == revenue["total_revenue"].max()]
    joined = t["supplier"].merge(best, left_on="s_suppkey", right_on="supplier_no")
    return joined[["s_suppkey", "s_name", "s_address", "s_phone", "total_revenue"]].sort_values("s_suppkey")


def pandas_q16(t):
    supplier, part = t["supplier"], t["part"]
    complainers = supplier.loc[supplier["s_comment"].str.contains("Customer.*Complaints", regex=True), "s_suppkey"]
    parts = part[(part["p_brand"] != "Brand#45") & ~part["p_type"].str.startswith("MEDIUM POLISHED")
                 & part["p_size"].isin([49, 14, 23, 45, 19, 3, 36, 9])]
    joined = t["partsupp"].merge(parts, left_on="ps_partkey", right_on="p_partkey")
    joined = joined[~joined["ps_suppkey"].isin(complainers)]
    return (joined.groupby(["p_brand", "p_type", "p_size"], as_index=False)
            .agg(supplier_cnt=("ps_suppkey", "nunique"))
            .sort_values(["supplier_cnt", "p_brand", "p_type", "p_size"], ascending=[False, True, True, True]))


def pandas_q17(t):
    import pandas as pd  # pandas: only where it is used

    part = t["part"]
    lines = (part[(part["p_brand"] == "Brand#23") & (part["p_container"] == "MED BOX")]
             .merge(t["lineitem"], left_on="p_partkey", right_on="l_partkey"))
    limit = 0.2 * lines.groupby("p_partkey")["l_quantity"].transform("mean")
    chosen = lines.loc[lines["l_quantity"] < limit, "l_extendedprice"]
    return pd.DataFrame({"avg_yearly": [chosen.sum(min_count=1) / 7.0]})  # min_count: NULL over no rows, as SQL


def pandas_q18(t):
    lineitem = t["lineitem"]
    sums = lineitem.groupby("l_orderkey", as_index=False).agg(sum_qty=("l_quantity", "sum"))
    big = sums[sums["sum_qty"] > 300]
    joined = (big.merge(t["orders"], left_on="l_orderkey", right_on="o_orderkey")
              .merge(t["customer"], left_on="o_custkey", right_on="c_custkey"))
    top = joined.sort_values(["o_totalprice", "o_orderdate", "o_orderkey"], ascending=[False, True, True]).head(100)
    return top[["c_name", "c_custkey", "o_orderkey", "o_orderdate", "o_totalprice", "sum_qty"]]


def pandas_q19(t):
    import pandas as pd  # pandas: only where it is used

    lineitem = t["lineitem"]
    lines = lineitem[lineitem["l_shipmode"].isin(["AIR", "AIR REG"])
                     & (lineitem["l_shipinstruct"] == "DELIVER IN PERSON")]
    j = lines.merge(t["part"], left_on="l_partkey", right_on="p_partkey")

    def group(brand, containers, low, high, size):
        return ((j["p_brand"] == brand) & j["p_container"].isin(containers)
                & _between(j["l_quantity"], low, high) & _between(j["p_size"], 1, size))

    chosen = j[group("Brand#12", ["SM CASE", "SM BOX", "SM PACK", "SM PKG"], 1, 11, 5)
               | group("Brand#23", ["MED BAG", "MED BOX", "MED PKG", "MED PACK"], 10, 20, 10)
               | group("Brand#34", ["LG CASE", "LG BOX", "LG PACK", "LG PKG"], 20, 30, 15)]
    return pd.DataFrame({"revenue": [_pd_revenue(chosen).sum(min_count=1)]})


def pandas_q20(t):
    lineitem, part, nation = t["lineitem"], t["part"], t["nation"]
    lines = lineitem[_between(lineitem["l_shipdate"], _ts(1994, 1, 1), _ts(1995, 1, 1), "left")]
    shipped = lines.groupby(["l_partkey", "l_suppkey"], as_index=False).agg(shipped=("l_quantity", "sum"))
    forest = part.loc[part["p_name"].str.startswith("forest"), "p_partkey"]
    partsupp = t["partsupp"]
    offers = (partsupp[partsupp["ps_partkey"].isin(forest)]
              .merge(shipped, left_on=["ps_partkey", "ps_suppkey"], right_on=["l_partkey", "l_suppkey"]))
    offers = offers[offers["ps_availqty"] > 0.5 * offers["shipped"]]
    canada = t["supplier"].merge(nation[nation["n_name"] == "CANADA"], left_on="s_nationkey",
                                 right_on="n_nationkey")
    chosen = canada[canada["s_suppkey"].isin(offers["ps_suppkey"])]
    return chosen[["s_name", "s_address"]].sort_values("s_name")


def pandas_q21(t):
    lineitem, nation = t["lineitem"], t["nation"]
    late = lineitem[lineitem["l_receiptdate"] > lineitem["l_commitdate"]][["l_orderkey", "l_suppkey"]]
    # EXISTS another supplier on the order; NOT EXISTS another *late* supplier on it.
    suppliers = lineitem.groupby("l_orderkey")["l_suppkey"].nunique()
    late_suppliers = late.groupby("l_orderkey")["l_suppkey"].nunique()
    shared = suppliers.index[suppliers > 1]
    late_alone = late_suppliers.index[late_suppliers == 1]
    orders = t["orders"]
    finished = orders.loc[orders["o_orderstatus"] == "F", "o_orderkey"]
    saudi = t["supplier"].merge(nation[nation["n_name"] == "SAUDI ARABIA"], left_on="s_nationkey",
                                right_on="n_nationkey")
    waits = late.merge(saudi, left_on="l_suppkey", right_on="s_suppkey")
    waits = waits[waits["l_orderkey"].isin(finished) & waits["l_orderkey"].isin(shared)
                  & waits["l_orderkey"].isin(late_alone)]
    return (waits.groupby("s_name", as_index=False).agg(numwait=("l_orderkey", "size"))
            .sort_values(["numwait", "s_name"], ascending=[False, True]).head(100))


def pandas_q22(t):
    customer, orders = t["customer"], t["orders"]
    customers = customer.assign(cntrycode=customer["c_phone"].str.slice(0, 2))
    customers = customers[customers["cntrycode"].isin(Q22_CODES)]
    average = customers.loc[customers["c_acctbal"] > 0, "c_acctbal"].mean()
    chosen = customers[(customers["c_acctbal"] > average) & ~customers["c_custkey"].isin(orders["o_custkey"])]
    return (chosen.groupby("cntrycode", as_index=False, sort=True)
            .agg(numcust=("c_custkey", "size"), totacctbal=("c_acctbal", "sum")))
