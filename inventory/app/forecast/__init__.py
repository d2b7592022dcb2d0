"""``inventory forecast``: daily demand forecasts per (warehouse, SKU) from the batch
layer's history (docs/semantics.md, "Demand forecasts")."""
