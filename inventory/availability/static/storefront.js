// Storefront demo: a product grid whose badges poll /v1/availability every second.
"use strict";

const grid = document.getElementById("grid");
const statusLine = document.getElementById("status");
const params = new URLSearchParams(location.search);
const chosen = (params.get("skus") || "").split(",").map((s) => s.trim()).filter(Boolean);
const warehouse = params.get("warehouse");
const cards = new Map(); // sku -> {badge, restock} elements
const GRID = 24;

function addCard(sku, name) {
  if (cards.has(sku) || cards.size >= (chosen.length ? 100 : GRID)) return;
  const card = document.createElement("article");
  card.className = "card";
  card.dataset.sku = sku;
  const title = document.createElement("h2");
  title.textContent = name || sku;
  const code = document.createElement("p");
  code.className = "sku";
  code.textContent = sku;
  const badge = document.createElement("p");
  badge.className = "badge";
  badge.dataset.status = "unknown";
  badge.textContent = "…";
  const restock = document.createElement("p");
  restock.className = "restock";
  restock.hidden = true;
  card.append(title, code, badge, restock);
  grid.append(card);
  cards.set(sku, { badge, restock });
}

async function getJson(url) {
  const response = await fetch(url, { cache: "no-store" });
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  return response.json();
}

async function loadProducts() {
  if (chosen.length) {
    chosen.slice(0, 100).forEach((sku) => addCard(sku, null));
    return;
  }
  // every status on show: scarce, out-of-stock and in-stock products (rules.showcase)
  const products = await getJson(`/v1/products?limit=${GRID}&pick=showcase`);
  products.items.forEach((p) => addCard(p.sku, p.name));
}

async function tick() {
  try {
    if (!cards.size || (!chosen.length && Date.now() % 10000 < 1000)) await loadProducts();
    if (!cards.size) {
      statusLine.textContent = "no products yet";
      return;
    }
    const query = new URLSearchParams();
    for (const sku of cards.keys()) query.append("sku", sku);
    if (warehouse) query.set("warehouse", warehouse);
    const result = await getJson(`/v1/availability?${query}`);
    let asOf = null;
    for (const item of result.items) {
      const { badge, restock } = cards.get(item.sku);
      badge.textContent = item.message;
      badge.dataset.status = item.status;
      badge.title = `${item.available} available; data ${item.age_seconds.toFixed(1)} s old`;
      // "Back in stock by <date>" / "More arriving <date>" while a purchase order is open
      restock.textContent = item.restock_message || "";
      restock.hidden = !item.restock_message;
      restock.title = item.incoming ? `${item.incoming} units on order` : "";
      asOf = item.as_of;
    }
    for (const sku of result.not_found) {
      const { badge, restock } = cards.get(sku);
      restock.hidden = true;
      badge.textContent = "Unavailable";
      badge.dataset.status = "unknown";
    }
    statusLine.textContent = asOf ? `stock as of ${asOf}` : "live";
  } catch (error) {
    statusLine.textContent = `reconnecting… (${error.message})`;
  }
}

tick();
setInterval(tick, 1000);
