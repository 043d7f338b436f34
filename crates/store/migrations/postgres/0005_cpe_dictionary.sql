-- Products named by the NVD Official CPE Dictionary, loaded with
-- `openwarp cpe-dictionary`. One row per (vendor, product), unquoted as
-- openwarp_advisory::cpe::Wfn::vendor_product_key gives them, with the title
-- of the product's first dictionary item. The inventory resolver offers these
-- alongside the names the advisory corpus mentions.

CREATE TABLE cpe_products (
    vendor  TEXT NOT NULL,
    product TEXT NOT NULL,
    part    TEXT NOT NULL,
    title   TEXT NOT NULL,
    PRIMARY KEY (vendor, product)
);
