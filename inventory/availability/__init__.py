"""Customer-facing availability: "Only N left in stock" over HTTP, and a storefront demo."""
