"""``inventory backtest``: the static and the demand policy replayed on the same demand."""
