// Storefront demo: a product grid whose badges follow /v1/stream (Server-Sent Events:
// a change shows without polling), with prices and a cart that holds units through the
// API's cart endpoints (a token in the page's #token=... fragment turns it on).
"use strict";

const grid = document.getElementById("grid");
const statusLine = document.getElementById("status");
const params = new URLSearchParams(location.search);
const chosen = (params.get("skus") || "").split(",").map((s) => s.trim()).filter(Boolean);
const warehouse = params.get("warehouse");
const cards = new Map(); // sku -> {badge, restock, button, line}
const held = new Map(); // sku -> {reservation_id, warehouse_id, quantity, expires_at}
const GRID = 24;
const fragment = new URLSearchParams(location.hash.slice(1));
if (fragment.get("token")) sessionStorage.setItem("cart-token", fragment.get("token"));
const token = sessionStorage.getItem("cart-token");
let cartOn = false;
let stream = null;

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function addCard(sku, name, price) {
  if (cards.has(sku) || cards.size >= (chosen.length ? 100 : GRID)) return;
  const card = element("article", "card");
  card.dataset.sku = sku;
  const title = element("h2", "", name || sku);
  const code = element("p", "sku", sku);
  const cost = element("p", "price", price == null ? "" : `$${Number(price).toFixed(2)}`);
  const badge = element("p", "badge", "…");
  badge.dataset.status = "unknown";
  const restock = element("p", "restock");
  restock.hidden = true;
  const actions = element("div", "actions");
  const button = element("button", "add", "Add to cart");
  button.hidden = !cartOn;
  button.addEventListener("click", () => addToCart(sku));
  const line = element("div", "in-cart");
  line.hidden = true;
  actions.append(button, line);
  card.append(title, code, cost, badge, restock, actions);
  grid.append(card);
  cards.set(sku, { badge, restock, button, line });
}

async function getJson(url, options) {
  const response = await fetch(url, { cache: "no-store", ...options });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(body.detail || `${url}: HTTP ${response.status}`);
  return body;
}

function post(url, body) {
  return getJson(url, {
    method: "POST",
    headers: { "Content-Type": "application/json", Authorization: `Bearer ${token}` },
    body: JSON.stringify(body),
  });
}

async function loadProducts() {
  if (chosen.length) {
    // the SKUs asked for, with their catalog names and prices (unknown ones by their code)
    const query = new URLSearchParams({ limit: "100" });
    chosen.slice(0, 100).forEach((sku) => query.append("sku", sku));
    const known = new Map((await getJson(`/v1/products?${query}`)).items.map((p) => [p.sku, p]));
    chosen.slice(0, 100).forEach((sku) => addCard(sku, known.get(sku)?.name, known.get(sku)?.unit_price));
    return;
  }
  // every status on show, scarce and incoming first: "Only N left", out of stock with a
  // delivery coming, then in stock (rules.showcase)
  const products = await getJson(`/v1/products?limit=${GRID}&pick=showcase`);
  products.items.forEach((p) => addCard(p.sku, p.name, p.unit_price));
}

function show(item) {
  const card = cards.get(item.sku);
  if (!card) return;
  card.badge.textContent = item.message;
  card.badge.dataset.status = item.status;
  card.badge.dataset.firstStatus ??= item.status; // what the grid was picked on
  card.badge.title = `${item.available} available`;
  // "Back in stock by <date>" / "More arriving <date>" while a purchase order is open
  // a backorder or preorder SKU with nothing available: "Backorder: ships by <date>" /
  // "Pre-order: ships <date>" instead, and the button still holds (the flow decides)
  const line = item.promise_message || item.restock_message || "";
  card.restock.textContent = line;
  card.restock.hidden = !line;
  card.restock.dataset.promise = item.promise_message ? item.oversell_policy : "";
  card.restock.title = item.incoming ? `${item.incoming} units on order` : "";
  card.button.disabled = item.available <= 0 && !item.promise_message;
  statusLine.textContent = `live: stock as of ${item.as_of}`;
}

function showCart(sku) {
  const card = cards.get(sku);
  const hold = held.get(sku);
  card.line.replaceChildren();
  card.line.hidden = !hold;
  card.button.hidden = !cartOn || Boolean(hold);
  if (!hold) return;
  const until = new Date(hold.expires_at).toLocaleTimeString();
  const checkout = element("button", "checkout", "Checkout");
  const remove = element("button", "remove", "Remove");
  checkout.addEventListener("click", () => settle(sku, "checkout"));
  remove.addEventListener("click", () => settle(sku, "release"));
  const promise = hold.promise_message ? ` ${hold.promise_message}.` : "";
  card.line.append(
    element("span", "held", `In your cart (held until ${until}).${promise} `),
    checkout,
    remove,
  );
}

// The flow decides every hold (201 granted, 409 refused with what is available); a
// decision not there within the API's wait is 202 pending: ask again a few times.
async function decided(answer) {
  for (let tries = 0; answer.status === "pending" && tries < 10; tries += 1) {
    await new Promise((done) => setTimeout(done, 500));
    answer = await getJson(`/v1/holds/${answer.reservation_id}`, {
      headers: { Authorization: `Bearer ${token}` },
    });
  }
  if (answer.status === "pending") throw new Error("still waiting for the stock's answer");
  if (answer.decision === "refused") throw new Error(answer.detail || `refused: ${answer.reason}`);
  return answer;
}

async function addToCart(sku) {
  try {
    const body = { sku, quantity: 1, ...(warehouse ? { warehouse_id: warehouse } : {}) };
    const hold = await decided(await post("/v1/holds", body));
    held.set(sku, hold);
    showCart(sku);
  } catch (error) {
    statusLine.textContent = `cart: ${error.message}`;
  }
}

async function settle(sku, action) {
  const hold = held.get(sku);
  try {
    await decided(await post(`/v1/holds/${hold.reservation_id}/${action}`, {
      sku, warehouse_id: hold.warehouse_id, quantity: hold.quantity,
    }));
    held.delete(sku);
    showCart(sku);
    statusLine.textContent = action === "checkout" ? "bought" : "removed from the cart";
  } catch (error) {
    statusLine.textContent = `cart: ${error.message}`;
  }
}

function follow() {
  const query = new URLSearchParams();
  for (const sku of cards.keys()) query.append("sku", sku);
  if (warehouse) query.set("warehouse", warehouse);
  if (stream) stream.close();
  stream = new EventSource(`/v1/stream?${query}`);
  stream.addEventListener("availability", (event) => show(JSON.parse(event.data)));
  stream.addEventListener("not_found", (event) => {
    const card = cards.get(JSON.parse(event.data).sku);
    card.badge.textContent = "Unavailable";
    card.badge.dataset.status = "unknown";
    card.restock.hidden = true;
  });
  stream.onerror = () => { statusLine.textContent = "reconnecting…"; };
}

async function start() {
  try {
    cartOn = Boolean(token) && (await getJson("/v1/cart")).enabled;
    await loadProducts();
    if (!cards.size) {
      statusLine.textContent = "no products yet";
      setTimeout(start, 2000);
      return;
    }
    for (const sku of cards.keys()) showCart(sku);
    follow();
  } catch (error) {
    statusLine.textContent = `reconnecting… (${error.message})`;
    setTimeout(start, 2000);
  }
}

start();
