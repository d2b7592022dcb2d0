-- Cart holds per (warehouse, sku) over the last 7 days of decisions (v9, hold_decisions):
-- holds granted, requests and units refused (demand the shop could not serve), holds
-- checked out, released and expired, and the conversion (checked out / granted).
-- Columns: warehouse_id, sku, holds, refused_requests, refused_units, checked_out,
--          released, expired, conversion
SELECT
    warehouse_id,
    sku,
    uniqExactIf(reservation_id, decision = 'granted') AS holds,
    countIf(decision = 'refused' AND request = 'hold_request') AS refused_requests,
    sumIf(quantity, decision = 'refused' AND request = 'hold_request') AS refused_units,
    uniqExactIf(reservation_id, decision = 'checked_out') AS checked_out,
    uniqExactIf(reservation_id, decision = 'released') AS released,
    uniqExactIf(reservation_id, decision = 'expired') AS expired,
    round(checked_out / nullIf(holds, 0), 3) AS conversion
FROM hold_decisions FINAL
WHERE decided_at > (SELECT max(decided_at) FROM hold_decisions) - INTERVAL 7 DAY
GROUP BY warehouse_id, sku
ORDER BY refused_units DESC, warehouse_id, sku
