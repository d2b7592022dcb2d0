-- Contract v10 (issue 32): backorders and preorders per SKU. A SKU's oversell policy says
-- what a hold may promise beyond on-hand (docs/semantics.md, "Backorders and preorders"):
-- `deny` (the default: nothing), `backorder` (up to the units on order, at most
-- `oversell_limit` when > 0) or `preorder` (before `release_at`, up to `oversell_limit`,
-- 0 = no cap). A grant beyond on-hand records its units and when they are expected.
-- Backward compatible: old rows read as `deny` SKUs and in-stock grants.

ALTER TABLE {database}.products
    ADD COLUMN IF NOT EXISTS oversell_policy LowCardinality(String) DEFAULT 'deny'
        COMMENT 'deny, backorder or preorder: what a hold may promise beyond on-hand',
    ADD COLUMN IF NOT EXISTS oversell_limit UInt32 DEFAULT 0
        COMMENT 'most units promised beyond on-hand per warehouse; 0: no cap (backorder: on order)',
    ADD COLUMN IF NOT EXISTS release_at Nullable(DateTime64(3, 'UTC'))
        COMMENT 'a preorder SKU: holds before it may be preorders; NULL: none (as deny)';

ALTER TABLE {database}.hold_decisions
    ADD COLUMN IF NOT EXISTS backordered Int64 DEFAULT 0
        COMMENT 'a grant: its units beyond on-hand (backordered or preordered); else 0',
    ADD COLUMN IF NOT EXISTS ships_at Nullable(DateTime64(3, 'UTC'))
        COMMENT 'a grant with backordered units: when the order covering its last unit is expected (a preorder: the release)';
