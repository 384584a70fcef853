"""Synthetic Mercari-style listings for demos, tests and pipeline smoke runs, drawn fast and
deterministically. A fixed "world" (a three-level category tree with skewed popularity, a few
hundred brands with price tiers and home categories, title and description vocabulary, and the
effect sizes of price-moving words) is built once from WORLD_SEED; `generate_listings` then draws
rows from it with its own `seed`. The log price of a row is a leaf base plus brand tier, condition,
text-token effects (lots, bundles, "NWT", storage capacity, materials, "for parts", "authentic"),
a shipping effect and heteroscedastic noise; prices are rounded to whole dollars and clipped to
[3, 2000]. Every row-level step is vectorised: numpy draws index arrays into string vocabularies
and pyarrow.compute joins the pieces, so a million rows take seconds and no Python loop runs per
row. Nothing is read or written and nothing is built at import time.
"""

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import NamedTuple

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

WORLD_SEED = 20_171_121
DEMO_COLUMNS = (
    "train_id",
    "name",
    "item_condition_id",
    "category_name",
    "brand_name",
    "price",
    "shipping",
    "item_description",
    "created_at",
)
_SCHEMA = pa.schema(
    [
        ("train_id", pa.int64()),
        ("name", pa.string()),
        ("item_condition_id", pa.int64()),
        ("category_name", pa.string()),
        ("brand_name", pa.string()),
        ("price", pa.float64()),
        ("shipping", pa.int64()),
        ("item_description", pa.string()),
        ("created_at", pa.timestamp("us")),
    ]
)
_CHUNK_ROWS = 250_000
_US_PER_DAY = 86_400_000_000
_EPOCH = datetime(1970, 1, 1)
_DOW_WEIGHTS = np.array([1.0, 0.95, 0.95, 0.97, 1.04, 1.25, 1.3])  # Monday .. Sunday
_NO_DESCRIPTION = "No description yet"

# --- effect sizes on log1p(price) ---------------------------------------------------------------
_TIERS = ("luxury", "premium", "mid", "budget")
_TIER_EFFECT = np.array([1.4, 0.5, 0.0, -0.3])
_UNBRANDED_EFFECT = -0.1
_COND_P = np.array([44.0, 25.0, 29.0, 2.3, 0.2]) / 100.5
_COND_EFFECT = np.array([0.08, 0.0, -0.08, -0.22, -0.45])
_LOT_PER_LOG_N = 0.33
_BUNDLE_EFFECT = 0.35
_NEW_EFFECT = 0.15
_GB_PER_DOUBLING = 0.14
_BROKEN_EFFECT = -0.9
_AUTHENTIC_EFFECT = 0.12
_SHIPPING_EFFECT = -0.1
_CAPACITIES = (16, 32, 64, 128, 256, 512)
_CAPACITY_P = np.array([0.08, 0.17, 0.3, 0.25, 0.15, 0.05])
_BROKEN_P = np.array([0.001, 0.005, 0.015, 0.12, 0.5])  # by condition 1..5
_AUTHENTIC_P = np.array([0.3, 0.08, 0.01, 0.01, 0.0])  # by tier, last = unbranded
_SHIP_INTERCEPT = -0.2
_SHIP_SLOPE = 1.4

# --- the category tree ---------------------------------------------------------------------------
_TOPS = (  # code, name, share of rows, share of rows with brand_name missing
    ("W", "Women", 0.43, 0.38),
    ("B", "Beauty", 0.15, 0.35),
    ("K", "Kids", 0.12, 0.45),
    ("E", "Electronics", 0.08, 0.28),
    ("M", "Men", 0.065, 0.40),
    ("H", "Home", 0.05, 0.50),
    ("V", "Vintage & Collectibles", 0.035, 0.55),
    ("O", "Other", 0.03, 0.60),
    ("D", "Handmade", 0.02, 0.80),
    ("S", "Sports & Outdoors", 0.02, 0.40),
)
# top | mid | leaf | kind | log1p base price | popularity within top | title nouns
_LEAVES = """
W|Athletic Apparel|Pants, Tights, Leggings|apparel|2.95|10|leggings, yoga pants, tights, capris
W|Tops & Blouses|T-Shirts|apparel|2.55|8|tee, t-shirt, graphic tee, v-neck tee
W|Tops & Blouses|Blouse|apparel|2.75|5|blouse, button down shirt, peasant top
W|Tops & Blouses|Tank, Cami|apparel|2.45|5|tank top, cami, racerback tank
W|Tops & Blouses|Tunic|apparel|2.7|2|tunic, tunic top
W|Athletic Apparel|Shorts|apparel|2.6|3|running shorts, bike shorts, athletic shorts
W|Athletic Apparel|Sports Bras|apparel|2.7|3|sports bra
W|Dresses|Knee-Length|apparel|3.0|4|dress, midi dress, wrap dress
W|Dresses|Above Knee, Mini|apparel|2.85|4|mini dress, bodycon dress, skater dress
W|Dresses|Maxi|apparel|3.0|2|maxi dress
W|Jeans|Slim, Skinny|apparel|3.05|4|skinny jeans, jeans, jeggings
W|Jeans|Boot Cut|apparel|3.0|1.5|bootcut jeans, flare jeans
W|Sweaters|Cardigan|apparel|2.85|2|cardigan, duster cardigan
W|Sweaters|Pullover|apparel|2.9|2|sweater, pullover, knit sweater
W|Coats & Jackets|Puffer|apparel|3.6|1.5|puffer jacket, down coat, puffer vest
W|Skirts|Mini|apparel|2.6|1.5|skirt, mini skirt
W|Shoes|Boots|shoes|3.55|3|boots, ankle booties, riding boots
W|Shoes|Sandals|shoes|3.0|2|sandals, wedges, slides
W|Shoes|Athletic|shoes|3.5|3|sneakers, running shoes, trainers
W|Women's Handbags|Shoulder Bag|bags|3.5|3|shoulder bag, purse, hobo bag
W|Women's Handbags|Totes & Shoppers|bags|3.45|2|tote, tote bag
W|Women's Handbags|Cross-Body|bags|3.35|2|crossbody bag, crossbody purse
W|Women's Accessories|Wallets|bags|3.1|2|wallet, wristlet, card holder
W|Women's Accessories|Sunglasses|generic|3.2|1|sunglasses, aviators
W|Jewelry|Necklaces|jewelry|2.7|3|necklace, pendant, choker
W|Jewelry|Earrings|jewelry|2.6|2.5|earrings, stud earrings, hoops
W|Jewelry|Bracelets|jewelry|2.7|2|bracelet, bangle, charm bracelet
W|Jewelry|Rings|jewelry|2.75|1.5|ring, stacking ring
W|Underwear|Bras|apparel|2.75|3|bra, bralette, push up bra
W|Underwear|Panties|apparel|2.55|2|panties, thong, cheekies
W|Swimwear|Two-Piece|apparel|2.8|2|bikini, bikini top, bikini bottoms
W|Other|Other|generic|2.6|1|item, accessory
B|Makeup|Face|beauty|2.8|6|foundation, concealer, highlighter, setting powder
B|Makeup|Lips|beauty|2.65|5|lipstick, liquid lipstick, lip gloss, lip liner
B|Makeup|Eyes|beauty|2.7|4|mascara, eyeliner, eyeshadow, brow pencil
B|Makeup|Makeup Palettes|beauty|3.25|3|eyeshadow palette, palette, contour palette
B|Makeup|Brushes & Applicators|beauty|2.6|1.5|makeup brushes, brush, beauty sponge
B|Skin Care|Face|beauty|2.9|3|moisturizer, face serum, cleanser, face mask
B|Skin Care|Body|beauty|2.55|1.5|body lotion, body butter, body scrub
B|Fragrance|Women|beauty|3.4|3|perfume, eau de parfum, body mist
B|Fragrance|Men|beauty|3.45|1|cologne, eau de toilette
B|Hair Care|Styling Tools|appliance|3.4|1.5|flat iron, curling wand, hair dryer
B|Hair Care|Shampoo & Conditioner|beauty|2.5|1|shampoo, conditioner, hair mask
B|Bath & Body|Bath|beauty|2.45|1.5|bath bombs, bubble bath, bath salts
B|Tools & Accessories|Makeup Bags & Cases|bags|2.6|1|makeup bag, cosmetic case
K|Toys|Dolls & Accessories|toys|2.9|3|doll, doll clothes, dollhouse
K|Toys|Action Figures & Statues|toys|2.85|2|action figure, figure
K|Toys|Stuffed Animals & Plush|toys|2.6|2|plush, stuffed animal, plushie
K|Toys|Building Toys|toys|3.2|1.5|building kit, bricks, minifigures
K|Toys|Learning & Education|toys|2.7|1|learning toy, flash cards, puzzle
K|Girls 2T-5T|Dresses|kidswear|2.5|2|dress, party dress
K|Girls (4+)|Tops & T-Shirts|kidswear|2.4|2|top, tee, shirt
K|Boys 2T-5T|Tops & T-Shirts|kidswear|2.35|1.5|shirt, tee, polo
K|Boys (4+)|Bottoms|kidswear|2.5|1.5|shorts, joggers, jeans
K|Girls 0-24 Mos|One-Pieces|kidswear|2.35|2|onesie, bodysuit, romper
K|Shoes|Toddler|shoes|2.8|1.5|shoes, sneakers, sandals
K|Gear|Strollers|gear|4.3|1|stroller, jogging stroller, umbrella stroller
K|Gear|Car Seats|gear|4.0|0.8|car seat, booster seat, infant car seat
K|Diapering|Diapers|generic|3.1|1|diapers, diaper pack
K|Feeding|Bottles|home|2.6|0.8|baby bottles, sippy cups
E|Cell Phones & Accessories|Cell Phones & Smartphones|tech|4.7|3|phone, smartphone, cell phone
E|Cell Phones & Accessories|Cases, Covers & Skins|accessory|2.3|4|phone case, case, wallet case
E|Cell Phones & Accessories|Chargers & Cradles|accessory|2.45|1.5|charger, charging cable
E|Cell Phones & Accessories|Headsets|appliance|3.2|2|earbuds, headphones, wireless earbuds
E|Computers & Tablets|iPad, Tablet, eBook Access|tech|4.4|1.5|tablet, e-reader
E|Computers & Tablets|Laptops & Netbooks|tech|5.0|1|laptop, notebook, chromebook
E|Video Games & Consoles|Games|media|2.85|4|game, video game
E|Video Games & Consoles|Consoles|tech|4.75|1.5|console, game console
E|Cameras & Photography|Digital Cameras|appliance|4.4|0.6|camera, digital camera
E|TV, Audio & Surveillance|Speakers|appliance|3.6|1|speaker, bluetooth speaker
E|Wearables|Smart Watches|appliance|4.1|1|smart watch, fitness tracker
M|Tops|T-shirts|apparel|2.6|3|tee, t-shirt, graphic tee
M|Tops|Button-Front|apparel|2.8|1.5|button down, dress shirt, flannel
M|Shoes|Athletic|shoes|3.95|4|sneakers, basketball shoes, running shoes
M|Shoes|Boots|shoes|3.75|1.2|boots, work boots
M|Athletic Apparel|Shorts|apparel|2.7|1.2|shorts, basketball shorts
M|Sweats & Hoodies|Hoodie|apparel|3.1|2|hoodie, sweatshirt, zip up hoodie
M|Jeans|Straight Leg|apparel|3.1|1|jeans, denim jeans
M|Men's Accessories|Wallets|bags|2.95|1|wallet, bifold wallet
M|Men's Accessories|Hats|apparel|2.7|1.2|hat, snapback, beanie
M|Men's Accessories|Watches|jewelry|3.9|1|watch, wrist watch
H|Kitchen & Dining|Cookware|home|3.3|1.5|skillet, frying pan, pot, dutch oven
H|Kitchen & Dining|Coffee & Tea Accessories|home|2.75|2|mug, tumbler, travel mug
H|Kitchen & Dining|Small Appliances|appliance|3.75|1|blender, coffee maker, air fryer
H|Home Décor|Candles & Holders|home|2.7|2|candle, jar candle, wax melts
H|Home Décor|Home Décor Accents|home|2.85|2|sign, vase, wall decor
H|Bedding|Quilts|home|3.4|1|quilt, comforter, duvet cover
H|Bath|Towels|home|2.75|0.8|towels, bath towel
V|Trading Cards|Sports|media|2.55|2|card, rookie card, cards
V|Trading Cards|Gaming|media|2.6|2|card, holo card, cards
V|Toy|Action Figure|toys|2.95|1.5|figure, vinyl figure, action figure
V|Collectibles|Pins|generic|2.5|1|pin, enamel pin, pins
V|Bags and Purses|Handbag|bags|3.3|1|handbag, purse
V|Jewelry|Brooch|jewelry|2.6|0.6|brooch, pin brooch
V|Electronics|Video Game|media|3.0|1|game, cartridge
O|Books|Fiction|media|2.35|2|book, novel, paperback
O|Books|Children's Books|media|2.35|1.5|book, board book, picture book
O|Office supplies|Shipping Supplies|generic|2.35|1|poly mailers, bubble mailers, boxes
O|Pet Supplies|Dogs|generic|2.6|1|dog collar, dog toy, leash
O|Daily & Travel items|Personal Care|beauty|2.6|1|toothbrush heads, razor, vitamins
O|Musical instruments|Guitars|appliance|4.3|0.4|guitar, acoustic guitar
S|Fan Shop|NFL|apparel|3.05|2|jersey, hat, tee
S|Fan Shop|MLB|apparel|2.95|1|jersey, cap, tee
S|Exercise|Fitness accessories|generic|2.8|1.5|resistance bands, yoga mat, dumbbells
S|Outdoors|Hiking|gear|3.2|1|backpack, hiking backpack, water bottle
S|Golf|Golf Clubs|gear|4.0|0.7|driver, putter, irons
D|Jewelry|Necklaces|jewelry|2.6|2|necklace, pendant
D|Jewelry|Earrings|jewelry|2.45|2|earrings, dangle earrings
D|Accessories|Keychain|generic|2.3|1|keychain, lanyard
D|Paper Goods|Stickers|generic|2.3|1.5|stickers, decals
D|Clothing|Shirt|apparel|2.75|1|shirt, custom tee
D|Home and Garden|Decor|home|2.9|1|sign, wreath
"""


class _Kind(NamedTuple):
    """How listings of a family of leaves are worded, and how often tokens occur in them."""

    size: str  # key of _SIZES or ""
    size_p: float
    material: str  # key of _MATERIALS or ""
    material_p: float
    colour_p: float
    new: int  # 0: "new with tags" wording, 1: "sealed" wording
    capacity: bool
    multi: float  # multiplier on lot / set / bundle rates
    broken: float  # multiplier on the "for parts" rate


_KINDS = {
    "apparel": _Kind("letter", 0.55, "fabric", 0.3, 0.5, 0, False, 1.0, 0.3),
    "shoes": _Kind("shoe", 0.7, "leather", 0.45, 0.5, 0, False, 0.6, 0.3),
    "bags": _Kind("", 0.0, "leather", 0.5, 0.5, 0, False, 0.5, 0.3),
    "jewelry": _Kind("", 0.0, "metal", 0.6, 0.2, 0, False, 1.5, 0.3),
    "kidswear": _Kind("kids", 0.6, "fabric", 0.2, 0.45, 0, False, 2.0, 0.3),
    "beauty": _Kind("volume", 0.35, "", 0.0, 0.15, 1, False, 1.5, 0.2),
    "tech": _Kind("", 0.0, "", 0.0, 0.45, 1, True, 0.4, 3.0),
    "appliance": _Kind("", 0.0, "", 0.0, 0.35, 1, False, 0.4, 3.0),
    "accessory": _Kind("", 0.0, "", 0.0, 0.5, 1, False, 1.5, 1.0),
    "toys": _Kind("", 0.0, "", 0.0, 0.2, 1, False, 2.5, 0.5),
    "media": _Kind("", 0.0, "", 0.0, 0.0, 1, False, 3.0, 0.3),
    "home": _Kind("home", 0.25, "homeware", 0.3, 0.4, 1, False, 1.0, 0.5),
    "gear": _Kind("", 0.0, "", 0.0, 0.35, 1, False, 0.3, 1.0),
    "generic": _Kind("", 0.0, "", 0.0, 0.3, 0, False, 1.0, 0.5),
}
_MULTI_P = (0.018, 0.010, 0.022)  # lot of N, set of N, bundle (before the kind multiplier)
_MAX_N = 12
_SIZES = {
    "letter": "size XS|size S|size M|size L|size XL|Size Small|Size Medium|Size Large|XL|M|S"
    "|size 2|size 4|size 6|size 8|size 10|size 12|OS|XXL",
    "shoe": "size 6|size 6.5|size 7|size 7.5|size 8|size 8.5|size 9|size 9.5|size 10|size 11"
    "|sz 8|Size 9|women's 8|men's 10|men's 11",
    "kids": "2T|3T|4T|5T|size 6|size 7/8|size 10/12|6-12 months|12 months|18 months|24 months",
    "volume": "1 oz|1.7 oz|3.4 oz|8 oz|travel size|full size|mini|100ml|50ml",
    "home": "queen|king|twin|10 inch|12 inch|large|small|16 oz|set",
}
_MATERIALS = {  # name, effect on log price, relative frequency
    "fabric": (
        ("cotton", 0.0, 5.0),
        ("polyester", 0.0, 2.0),
        ("denim", 0.0, 1.5),
        ("wool", 0.05, 1.0),
        ("linen", 0.0, 0.8),
        ("silk", 0.1, 0.6),
        ("cashmere", 0.4, 0.5),
        ("fleece", 0.0, 1.0),
    ),
    "leather": (
        ("genuine leather", 0.3, 2.0),
        ("faux leather", -0.12, 2.0),
        ("suede", 0.05, 1.0),
        ("canvas", 0.0, 1.5),
        ("mesh", 0.0, 1.0),
    ),
    "metal": (
        ("14k gold", 0.85, 0.8),
        ("sterling silver", 0.35, 2.5),
        ("gold plated", 0.0, 2.0),
        ("silver plated", 0.0, 1.0),
        ("stainless steel", 0.0, 1.5),
        ("rose gold tone", 0.0, 1.0),
    ),
    "homeware": (
        ("ceramic", 0.0, 2.0),
        ("stainless steel", 0.0, 2.0),
        ("glass", 0.0, 1.5),
        ("wood", 0.0, 1.2),
        ("cast iron", 0.1, 0.8),
        ("cotton", 0.0, 1.0),
    ),
}
_COLOURS = (
    "black",
    "white",
    "gray",
    "navy",
    "blue",
    "red",
    "pink",
    "green",
    "beige",
    "brown",
    "purple",
    "yellow",
    "cream",
    "gold",
    "silver",
    "olive",
    "burgundy",
    "teal",
    "coral",
    "tan",
)
_ADJECTIVES = (
    "cute",
    "vintage",
    "rare",
    "oversized",
    "cropped",
    "classic",
    "adorable",
    "boho",
    "mini",
    "super soft",
    "HTF",
    "limited edition",
    "EUC",
    "trendy",
    "comfy",
)

# --- brands: name | tier | home top codes | kinds of leaf they make ---------------------------
_REAL_BRANDS = """
Nike|mid|WMKS|apparel,shoes,kidswear,gear,generic
Adidas|mid|WMKS|apparel,shoes,kidswear,gear,generic
Under Armour|mid|WMS|apparel,shoes,gear
Jordan|premium|MK|shoes,apparel
Lululemon|premium|WMS|apparel,bags,generic
LuLaRoe|mid|WK|apparel,kidswear
Victoria's Secret|mid|WB|apparel,beauty,bags
PINK|mid|W|apparel,bags
Forever 21|budget|W|apparel,shoes,jewelry
Old Navy|budget|WKM|apparel,kidswear,shoes
H&M|budget|WM|apparel,kidswear
American Eagle|mid|WM|apparel,shoes
Hollister|mid|WM|apparel
Free People|premium|W|apparel,shoes,jewelry
Michael Kors|premium|WM|bags,shoes,jewelry,apparel
Coach|premium|WV|bags,shoes
Kate Spade|premium|W|bags,jewelry,accessory
Tory Burch|premium|W|bags,shoes
Vera Bradley|mid|W|bags,accessory
Louis Vuitton|luxury|WV|bags,shoes,jewelry
Chanel|luxury|WBV|bags,beauty,jewelry,shoes
Gucci|luxury|WM|bags,shoes,jewelry,generic
Prada|luxury|W|bags,shoes,generic
Tiffany & Co.|luxury|W|jewelry
Burberry|luxury|WM|apparel,bags,generic
Christian Louboutin|luxury|W|shoes
Rolex|luxury|M|jewelry
Pandora|premium|W|jewelry
Alex and Ani|mid|W|jewelry
Kendra Scott|mid|W|jewelry
Steve Madden|mid|W|shoes,bags
UGG Australia|premium|WK|shoes
Converse|mid|WMK|shoes
Vans|mid|WMK|shoes,apparel
Skechers|budget|WK|shoes
Levi's|mid|WM|apparel
Ralph Lauren|premium|WMK|apparel,kidswear
Tommy Hilfiger|mid|WM|apparel,bags
Calvin Klein|mid|WM|apparel,bags
The North Face|premium|WMS|apparel,gear,bags
Patagonia|premium|MS|apparel,gear
Columbia|mid|MS|apparel,shoes,gear
Carhartt|mid|M|apparel,bags
Torrid|mid|W|apparel,jewelry
Express|mid|WM|apparel
MAC|premium|B|beauty
Urban Decay|premium|B|beauty
Too Faced|premium|B|beauty
Anastasia Beverly Hills|premium|B|beauty
Kylie Cosmetics|premium|B|beauty
Tarte|mid|B|beauty
Benefit|mid|B|beauty
Clinique|mid|B|beauty
Sephora|mid|B|beauty,bags
NYX|budget|B|beauty
e.l.f.|budget|B|beauty
Maybelline|budget|B|beauty
Bath & Body Works|budget|BH|beauty,home
Apple|premium|E|tech,appliance,accessory
Samsung|premium|E|tech,appliance,accessory
Sony|premium|E|media,tech,appliance
Nintendo|premium|EKV|media,tech,toys
Microsoft|premium|E|tech,media
Beats|premium|E|appliance
Bose|premium|E|appliance
JBL|mid|E|appliance
Canon|premium|E|appliance
GoPro|premium|E|appliance
Fitbit|mid|E|appliance
Otterbox|mid|E|accessory
LG|mid|E|tech,appliance,accessory
Lego|premium|KV|toys
Funko|mid|VK|toys,generic
Disney|mid|KVH|toys,kidswear,home,generic
Pokemon|mid|VK|media,toys
Mattel|budget|K|toys
Hasbro|budget|K|toys
Fisher-Price|budget|K|toys,gear
Carter's|budget|K|kidswear
Gap|mid|KW|kidswear,apparel
Pampers|budget|K|generic
Graco|mid|K|gear
Rae Dunn|mid|H|home
Pottery Barn|premium|H|home
Le Creuset|premium|H|home
KitchenAid|premium|H|appliance,home
Pyrex|budget|HV|home
Yankee Candle|budget|H|home
Dyson|premium|HB|appliance
Topps|mid|V|media
Panini|mid|V|media
NFL|mid|S|apparel
MLB|mid|S|apparel
Scholastic|budget|O|media
Penguin Books|budget|O|media
Callaway|premium|S|gear
Yeti|premium|HS|home,gear
Hydro Flask|mid|SH|gear,home,generic
Starbucks|mid|H|home
"""
_POPULAR_BRANDS = (  # the marketplace's best sellers get a popularity boost
    "Nike",
    "PINK",
    "Victoria's Secret",
    "LuLaRoe",
    "Apple",
    "Forever 21",
    "Nintendo",
    "Lululemon",
    "Michael Kors",
    "American Eagle",
    "Rae Dunn",
    "Sephora",
    "Coach",
    "Funko",
)
_GENERATED_BRANDS = 230
_GENERATED_TIER_P = np.array([0.02, 0.15, 0.45, 0.38])
_SYLLABLES_A = (
    "Lu",
    "Ma",
    "Bel",
    "Ka",
    "Zo",
    "Ri",
    "Sa",
    "No",
    "Ve",
    "Ta",
    "Mi",
    "Co",
    "Ar",
    "El",
    "Jo",
    "Fa",
    "Har",
    "Wil",
    "Ro",
    "Ash",
)
_SYLLABLES_B = (
    "na",
    "ra",
    "lo",
    "vie",
    "ton",
    "ette",
    "lia",
    "ro",
    "mi",
    "sa",
    "del",
    "ine",
    "ley",
    "ara",
    "wood",
    "bury",
    "ford",
    "ven",
)
_BRAND_SUFFIXES = ("", "", "", "", " & Co.", " Collection", " Studio", " Designs", " Co.")

# --- description sentences ---------------------------------------------------------------------
_COND_PHRASES = (
    ("Brand new.", "New, never used.", "Never used.", "Brand new in package."),
    ("Like new.", "Barely used.", "Used once, excellent condition.", "Like new condition."),
    ("Gently used.", "Good used condition.", "Some signs of wear.", "Used but in great shape."),
    ("Fair condition.", "Has some flaws, see pics.", "Well loved.", "Noticeable wear."),
    ("Poor condition.", "Heavily used.", "Has stains and damage."),
)
_OPENERS = (
    "Selling my",
    "Beautiful",
    "Super cute",
    "Gorgeous",
    "Cute",
    "Listing my",
    "Up for sale:",
)
_FILLERS = {
    "apparel": (
        "Fits true to size.",
        "Super soft and comfy.",
        "Runs a little small.",
        "Very flattering fit.",
        "Stretchy material.",
    ),
    "shoes": (
        "Fits true to size.",
        "Soles in good shape.",
        "Super comfortable.",
        "Comes with box.",
    ),
    "bags": ("Plenty of pockets.", "Clean interior.", "Dust bag not included.", "Roomy inside."),
    "jewelry": (
        "Comes in a gift box.",
        "Does not tarnish.",
        "Adjustable chain.",
        "Perfect for gifting.",
    ),
    "kidswear": ("My kids outgrew it.", "No stains.", "Perfect for school."),
    "beauty": ("Swatched once.", "Expires next year.", "Shade is beautiful.", "Cruelty free."),
    "tech": (
        "Comes with charger.",
        "Unlocked.",
        "Screen protector since day one.",
        "Factory reset.",
    ),
    "appliance": ("Comes with cord.", "Original packaging included.", "Lightweight and portable."),
    "accessory": ("Fits most models.", "Fast charging.", "Slim fit design."),
    "toys": ("Great gift for kids.", "All pieces included.", "Kids will love it."),
    "media": ("Great for collectors.", "Ships in protective packaging.", "Great condition inside."),
    "home": ("Great for the kitchen.", "Perfect for gifting.", "Matches any decor."),
    "gear": ("Easy to fold.", "Clean and ready to use.", "Very sturdy."),
    "generic": ("Great quality.", "Perfect gift.", "Ships quickly."),
}
_GENERIC_FILLERS = (
    "Smoke free home.",
    "Pet free home.",
    "Ships fast!",
    "Price is firm.",
    "Open to offers.",
    "No trades.",
    "Check out my other listings!",
    "Ships same or next day.",
    "Feel free to ask questions.",
    "Offers welcome.",
)
_RM_SENTENCES = ("Retail [rm].", "Paid [rm], selling for less.", "Originally [rm].")
_SHIP_SENTENCES = (("Buyer pays shipping.",), ("Free shipping!", "Shipping included."))


# --- world ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Slot:
    """A string vocabulary: entry 0 is "", group g owns entries starts[g] .. starts[g]+counts[g]."""

    strings: pa.Array
    starts: np.ndarray
    counts: np.ndarray

    def pick(self, rng: np.random.Generator, group: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """Uniformly one entry of each row's group where mask holds, else entry 0 ("")."""
        offset = (rng.random(group.shape[0]) * self.counts[group]).astype(np.int64)
        return np.where(mask, self.starts[group] + offset, 0)

    def at(self, group: np.ndarray, variant: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """Entry `variant` of each row's group where mask holds, else entry 0 ("")."""
        return np.where(mask, self.starts[group] + variant, 0)


@dataclass(frozen=True)
class _Grouped:
    """Weighted choice of a value within each row's group, vectorised with one searchsorted."""

    cum: np.ndarray  # group g's cumulative probabilities, shifted by g
    values: np.ndarray

    def draw(self, rng: np.random.Generator, group: np.ndarray) -> np.ndarray:
        u = np.minimum(rng.random(group.shape[0]), 1.0 - 1e-9)
        return self.values[np.searchsorted(self.cum, group + u, side="right")]


@dataclass(frozen=True)
class _World:
    """Everything fixed by WORLD_SEED: category tree, brands, effects and vocabularies."""

    leaf_names: pa.Array
    leaf_top: np.ndarray
    leaf_kind: np.ndarray
    leaf_base: np.ndarray
    leaf_sigma: np.ndarray
    leaf_choice: _Grouped
    noun_start: np.ndarray
    noun_count: np.ndarray
    top_missing: np.ndarray
    brand_names: pa.Array
    brand_tier: np.ndarray
    brand_effect: np.ndarray
    brand_choice: _Grouped
    kind_table: dict[str, np.ndarray]
    material_choice: _Grouped
    material_effect: np.ndarray
    slots: dict[str, _Slot]


def _slot(groups: Sequence[Sequence[str]], end: str = " ") -> _Slot:
    """A _Slot whose group g holds the variants groups[g], each followed by `end`."""
    flat, starts, counts = [""], [], []
    for variants in groups:
        starts.append(len(flat))
        counts.append(len(variants))
        flat.extend(v + end for v in variants)
    return _Slot(pa.array(flat, pa.string()), np.array(starts), np.array(counts))


def _grouped(groups: Sequence[tuple[Sequence[int], Sequence[float]]]) -> _Grouped:
    """A _Grouped from (values, weights) per group; every group needs at least one value."""
    cums, values = [], []
    for group, (vals, weights) in enumerate(groups):
        p = np.cumsum(np.asarray(weights, dtype=float))
        p /= p[-1]
        p[-1] = 1.0
        cums.append(group + p)
        values.extend(vals)
    return _Grouped(np.concatenate(cums), np.array(values, dtype=np.int64))


def _parse_leaves() -> list[list[str]]:
    """_LEAVES as rows of [top code, mid, leaf, kind, base, popularity, nouns]."""
    return [line.split("|") for line in _LEAVES.strip().splitlines()]


def _category_arrays(rng: np.random.Generator) -> dict:
    """Leaf names, tops, kinds, bases, noise levels, popularity and noun ranges."""
    leaves, top_codes = _parse_leaves(), [t[0] for t in _TOPS]
    kind_names = list(_KINDS)
    top = np.array([top_codes.index(leaf[0]) for leaf in leaves])
    weight = np.array([float(leaf[5]) for leaf in leaves])
    top_share = np.array([t[2] for t in _TOPS])
    leaf_p = top_share[top] * weight / np.bincount(top, weights=weight)[top]
    nouns = [[n.strip() for n in leaf[6].split(",")] for leaf in leaves]
    counts = np.array([len(n) for n in nouns])
    return {
        "leaf_names": pa.array(
            [f"{_TOPS[t][1]}/{leaf[1]}/{leaf[2]}" for t, leaf in zip(top, leaves, strict=True)],
            pa.string(),
        ),
        "leaf_top": top,
        "leaf_kind": np.array([kind_names.index(leaf[3]) for leaf in leaves]),
        "leaf_base": np.array([float(leaf[4]) for leaf in leaves]),
        "leaf_sigma": rng.uniform(0.27, 0.43, len(leaves)),
        "leaf_choice": _grouped([(range(len(leaves)), leaf_p)]),
        "noun_start": np.concatenate([[0], np.cumsum(counts)[:-1]]),
        "noun_count": counts,
        "nouns": [n for group in nouns for n in group],
    }


def _generated_brands(rng: np.random.Generator, taken: set[str]) -> list[tuple[str, int, str]]:
    """Made-up brands: (name, tier index, home top codes), mostly mid and budget, any kind."""
    top_codes = "".join(t[0] for t in _TOPS)
    top_p = np.sqrt([t[2] for t in _TOPS])
    top_p /= top_p.sum()
    brands: list[tuple[str, int, str]] = []
    while len(brands) < _GENERATED_BRANDS:
        parts = rng.choice(_SYLLABLES_A), rng.choice(_SYLLABLES_B), rng.choice(_BRAND_SUFFIXES)
        extra = rng.choice(_SYLLABLES_B) if rng.random() < 0.3 else ""
        name = f"{parts[0]}{parts[1]}{extra}{parts[2]}"
        if name in taken:
            continue
        taken.add(name)
        homes = rng.choice(len(top_codes), size=1 + int(rng.random() < 0.3), replace=False, p=top_p)
        tier = int(rng.choice(len(_TIERS), p=_GENERATED_TIER_P))
        brands.append((name, tier, "".join(top_codes[h] for h in homes)))
    return brands


def _brand_groups(homes: list[str], makes: list[set[str]], weight: np.ndarray) -> _Grouped:
    """Brand chooser per (top, kind) group = top * len(_KINDS) + kind: brands at home in the top
    that make the kind (made-up brands make every kind), else any brand of the top."""
    groups = []
    for code, *_ in _TOPS:
        in_top = [i for i, h in enumerate(homes) if code in h]
        for kind in _KINDS:
            members = [i for i in in_top if not makes[i] or kind in makes[i]] or in_top
            groups.append((members, weight[members]))
    return _grouped(groups)


def _brand_arrays(rng: np.random.Generator) -> dict:
    """Brand names, tiers, price effects and a per-(top, kind) weighted brand chooser."""
    real = [line.split("|") for line in _REAL_BRANDS.strip().splitlines()]
    brands = [(name, _TIERS.index(tier), homes) for name, tier, homes, _ in real]
    brands += _generated_brands(rng, {b[0] for b in brands})
    makes = [set(r[3].split(",")) for r in real] + [set()] * (len(brands) - len(real))
    tier = np.array([b[1] for b in brands])
    weight = np.concatenate(
        [rng.lognormal(2.4, 0.8, len(real)), rng.lognormal(0.0, 0.9, len(brands) - len(real))]
    )
    weight *= np.where(tier == 0, 0.4, 1.0)
    weight *= np.where(np.isin([b[0] for b in brands], _POPULAR_BRANDS), 3.0, 1.0)
    return {
        "brand_names": pa.array([b[0] for b in brands], pa.string()),
        "brand_tier": tier,
        "brand_effect": _TIER_EFFECT[tier] + rng.normal(0.0, 0.12, len(brands)),
        "brand_choice": _brand_groups([b[2] for b in brands], makes, weight),
        "brand_variants": [(b[0], b[0].lower(), b[0].upper()) for b in brands],
    }


def _kind_table() -> dict[str, np.ndarray]:
    """Per-kind attributes as arrays indexed by kind number (-1: no size / material group)."""
    kinds = list(_KINDS.values())
    sizes, materials = list(_SIZES), list(_MATERIALS)
    return {
        "size": np.array([sizes.index(k.size) if k.size else -1 for k in kinds]),
        "size_p": np.array([k.size_p for k in kinds]),
        "material": np.array([materials.index(k.material) if k.material else -1 for k in kinds]),
        "material_p": np.array([k.material_p for k in kinds]),
        "colour_p": np.array([k.colour_p for k in kinds]),
        "new": np.array([k.new for k in kinds]),
        "capacity": np.array([k.capacity for k in kinds]),
        "multi": np.array([k.multi for k in kinds]),
        "broken": np.array([k.broken for k in kinds]),
    }


def _material_arrays() -> dict:
    """Flat material list (names, effects) and a per-group weighted chooser."""
    names, effects, groups = [], [], []
    for entries in _MATERIALS.values():
        ids = range(len(names), len(names) + len(entries))
        groups.append((ids, [e[2] for e in entries]))
        names.extend(e[0] for e in entries)
        effects.extend(e[1] for e in entries)
    return {
        "materials": names,
        "material_effect": np.array(effects),
        "material_choice": _grouped(groups),
    }


def _multi_groups(sentence: bool) -> list[tuple[str, ...]]:
    """Wording of lot / set / bundle: groups 0..10 lot of N, 11..21 set of N, 22 bundle."""
    ns = range(2, _MAX_N + 1)
    if sentence:
        lots = [(f"Lot of {n} items.", f"You get the whole lot of {n}.") for n in ns]
        sets = [(f"Set of {n}.", f"Comes as a set of {n}.") for n in ns]
        return lots + sets + [("Bundle deal.", "Selling as a bundle.", "Bundle of everything.")]
    lots = [(f"Lot of {n}", f"lot of {n}", f"LOT OF {n}") for n in ns]
    sets = [(f"Set of {n}", f"set of {n}") for n in ns]
    return lots + sets + [("Bundle", "bundle", "BUNDLE")]


def _case_variants(word: str) -> tuple[str, ...]:
    """A lower-case word and its capitalised form; acronyms ("HTF", "EUC") as they are."""
    return (word, word.capitalize()) if word.islower() else (word,)


def _title_slots(cat: dict, brands: dict, mats: dict) -> dict[str, _Slot]:
    return {
        "multi": _slot(_multi_groups(sentence=False)),
        "auth": _slot([("Authentic", "AUTHENTIC", "100% authentic")]),
        "new_pre": _slot([("NWT", "New with tags"), ("Sealed", "New sealed")]),
        "brand": _slot(brands["brand_variants"]),
        "adj": _slot([[v for a in _ADJECTIVES for v in _case_variants(a)]]),
        "colour": _slot([(c, c.capitalize()) for c in _COLOURS]),
        "material": _slot([(m, m.title()) for m in mats["materials"]]),
        "noun": _slot([(n, n.title()) for n in cat["nouns"]]),
        "cap": _slot([(f"{gb}GB", f"{gb} GB", f"{gb}gb") for gb in _CAPACITIES]),
        "size": _slot([s.split("|") for s in _SIZES.values()]),
        "new_suf": _slot([("NWT", "nwt", "new with tags"), ("sealed", "SEALED", "(sealed)")]),
        "broken": _slot([("for parts", "FOR PARTS", "broken", "as is", "- for parts or repair")]),
    }


def _description_slots(cat: dict, brands: dict, mats: dict) -> dict[str, _Slot]:
    names = [b[0] for b in brands["brand_variants"]]
    return {
        "d_cond": _slot(_COND_PHRASES),
        "d_open": _slot([_OPENERS]),
        "d_brand": _slot([(b,) for b in names]),
        "d_noun": _slot([(n,) for n in cat["nouns"]], end=""),
        "d_in": _slot([(" in",)]),
        "d_colour": _slot([(c,) for c in _COLOURS], end=""),
        "d_end": _slot([(".", "!")]),
        "d_multi": _slot(_multi_groups(sentence=True)),
        "d_new": _slot(
            [
                ("New with tags.", "NWT, never worn."),
                ("Still sealed.", "Factory sealed, never opened."),
            ]
        ),
        "d_cap": _slot(
            [(f"{gb}GB storage.", f"Storage: {gb}GB.", f"{gb}GB model.") for gb in _CAPACITIES]
        ),
        "d_material": _slot([(f"Made of {m}.", f"Material: {m}.") for m in mats["materials"]]),
        "d_broken": _slot(
            [
                (
                    "Sold for parts, does not turn on.",
                    "Broken, selling as is.",
                    "For parts or repair only.",
                    "Sold as is, no returns.",
                )
            ]
        ),
        "d_auth": _slot(
            [("100% authentic.", "Authentic, bought in store.", "Guaranteed authentic.")]
        ),
        "d_fill": _slot([_FILLERS[k] for k in _KINDS]),
        "d_generic": _slot([_GENERIC_FILLERS]),
        "d_rm": _slot([_RM_SENTENCES]),
        "d_ship": _slot(_SHIP_SENTENCES),
    }


@functools.lru_cache(maxsize=1)
def _world() -> _World:
    """The fixed synthetic world, built on first use from WORLD_SEED only."""
    rng = np.random.default_rng(WORLD_SEED)
    cat, brands, mats = _category_arrays(rng), _brand_arrays(rng), _material_arrays()
    slots = _title_slots(cat, brands, mats) | _description_slots(cat, brands, mats)
    drop = {"nouns", "brand_variants", "materials"}
    fields = {k: v for part in (cat, brands, mats) for k, v in part.items() if k not in drop}
    return _World(
        top_missing=np.array([t[3] for t in _TOPS]), kind_table=_kind_table(), slots=slots, **fields
    )


# --- rows ----------------------------------------------------------------------------------------
def _draw_item(world: _World, rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    """What is sold: leaf, condition, noun, colour and whether the category is missing."""
    leaf = world.leaf_choice.draw(rng, np.zeros(n, dtype=np.int64))
    kind = world.leaf_kind[leaf]
    noun_offset = (rng.random(n) * world.noun_count[leaf]).astype(np.int64)
    has_colour = rng.random(n) < world.kind_table["colour_p"][kind]
    return {
        "leaf": leaf,
        "top": world.leaf_top[leaf],
        "kind": kind,
        "cond": rng.choice(5, size=n, p=_COND_P) + 1,
        "noun": world.noun_start[leaf] + noun_offset,
        "colour": np.where(has_colour, rng.integers(0, len(_COLOURS), n), -1),
        "no_category": rng.random(n) < 0.005,
    }


def _draw_brand(world: _World, rng: np.random.Generator, rows: dict) -> dict[str, np.ndarray]:
    """brand_state 0: brand_name shown, 1: brand_name missing but brand in the title (its
    effect applies), 2: unbranded."""
    n = rows["top"].shape[0]
    brand = world.brand_choice.draw(rng, rows["top"] * len(_KINDS) + rows["kind"])
    missing = rng.random(n) < world.top_missing[rows["top"]]
    in_title = rng.random(n) < 1.0 / 3.0
    state = np.where(missing, np.where(in_title, 1, 2), 0)
    tier = np.where(state == 2, len(_TIERS), world.brand_tier[brand])
    return {"brand": brand, "brand_state": state, "tier": tier}


def _draw_multi(world: _World, rng: np.random.Generator, rows: dict) -> dict[str, np.ndarray]:
    """Lot of N (1), set of N (2), bundle (3) or none (0), with N and the wording group."""
    n = rows["kind"].shape[0]
    rates = np.cumsum(_MULTI_P) * world.kind_table["multi"][rows["kind"]][:, None]
    hit = rng.random(n)[:, None] < rates
    multi = np.where(hit[:, -1], hit.argmax(axis=1) + 1, 0)
    count = np.minimum(rng.geometric(0.35, n) + 1, _MAX_N)
    group = np.where(multi == 1, count - 2, np.where(multi == 2, count - 2 + _MAX_N - 1, 0))
    group = np.where(multi == 3, 2 * (_MAX_N - 1), group)
    return {"multi": multi, "multi_n": count, "multi_group": group}


def _draw_tokens(world: _World, rng: np.random.Generator, rows: dict) -> dict[str, np.ndarray]:
    """The price-moving facts: new/sealed, capacity, material, broken, authentic."""
    kt, kind, cond, n = world.kind_table, rows["kind"], rows["cond"], rows["kind"].shape[0]
    new_p = np.where(cond == 1, 0.25, np.where(cond == 2, 0.04, 0.0))
    gb = np.where(kt["capacity"][kind], rng.choice(len(_CAPACITIES), size=n, p=_CAPACITY_P), -1)
    mat_group = kt["material"][kind]
    material = world.material_choice.draw(rng, np.maximum(mat_group, 0))
    has_material = (mat_group >= 0) & (rng.random(n) < kt["material_p"][kind])
    broken_p = np.minimum(_BROKEN_P[cond - 1] * kt["broken"][kind], 0.8)
    return {
        "new": rng.random(n) < new_p,
        "gb": gb,
        "material": np.where(has_material, material, -1),
        "broken": rng.random(n) < broken_p,
        "authentic": rng.random(n) < _AUTHENTIC_P[rows["tier"]],
    } | _draw_multi(world, rng, rows)


def _draw_placement(rng: np.random.Generator, rows: dict) -> dict[str, np.ndarray]:
    """Where each price-moving token is written: bit 1 title, bit 2 description."""
    n = rows["kind"].shape[0]
    no_desc = rng.random(n) < 0.06
    out = {"no_desc": no_desc}
    for token in ("multi", "new", "gb", "material", "broken", "authentic"):
        where = rng.choice(np.array([1, 2, 3]), size=n, p=[0.5, 0.25, 0.25])
        out[f"{token}_at"] = np.where(no_desc, 1, where)
    out["multi_at"] = np.where(rng.random(n) < 0.6, 4, 0) | out["multi_at"]  # bit 4: prefix
    return out


def _text_effect(world: _World, rows: dict) -> np.ndarray:
    multi, gb, material = rows["multi"], rows["gb"], rows["material"]
    effect = np.where((multi == 1) | (multi == 2), _LOT_PER_LOG_N * np.log(rows["multi_n"]), 0.0)
    effect += np.where(multi == 3, _BUNDLE_EFFECT, 0.0)
    effect += _NEW_EFFECT * rows["new"]
    capacities = np.log2(np.array(_CAPACITIES) / 64.0)
    effect += np.where(gb >= 0, _GB_PER_DOUBLING * capacities[np.maximum(gb, 0)], 0.0)
    effect += np.where(material >= 0, world.material_effect[np.maximum(material, 0)], 0.0)
    effect += _BROKEN_EFFECT * rows["broken"] + _AUTHENTIC_EFFECT * rows["authentic"]
    return effect


def _draw_price(world: _World, rng: np.random.Generator, rows: dict) -> dict[str, np.ndarray]:
    """log1p(price) = leaf + brand + condition + text + shipping + noise; whole dollars."""
    n, cond = rows["leaf"].shape[0], rows["cond"]
    brand = np.where(rows["brand_state"] == 2, _UNBRANDED_EFFECT, world.brand_effect[rows["brand"]])
    sigma = world.leaf_sigma[rows["leaf"]] * np.where(cond >= 4, 1.25, 1.0)
    latent = (
        world.leaf_base[rows["leaf"]]
        + brand
        + _COND_EFFECT[cond - 1]
        + _text_effect(world, rows)
        + sigma * rng.standard_normal(n)
    )
    ship_p = 1.0 / (1.0 + np.exp(_SHIP_SLOPE * (latent - 3.0) - _SHIP_INTERCEPT))
    shipping = (rng.random(n) < ship_p).astype(np.int64)
    price = np.rint(np.expm1(latent + _SHIPPING_EFFECT * shipping))
    to_five = (price > 20) & (rng.random(n) < 0.5)
    price = np.where(to_five, np.rint(price / 5.0) * 5.0, price)
    return {"shipping": shipping, "price": np.clip(price, 3.0, 2000.0)}


def _draw_rows(world: _World, rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    rows = _draw_item(world, rng, n)
    rows |= _draw_brand(world, rng, rows)
    rows |= _draw_tokens(world, rng, rows)
    rows |= _draw_placement(rng, rows)
    return rows | _draw_price(world, rng, rows)


# --- text ----------------------------------------------------------------------------------------
def _join(pieces: Sequence[tuple[_Slot, np.ndarray]]) -> pa.Array:
    """Concatenate one vocabulary entry per slot and row; entries carry their own spacing."""
    arrays = [slot.strings.take(pa.array(idx, pa.int64())) for slot, idx in pieces]
    return pc.utf8_rtrim_whitespace(pc.binary_join_element_wise(*arrays, ""))


def _brand_variant(rng: np.random.Generator, state: np.ndarray) -> np.ndarray:
    """Brand spelling in the title: as is, lower or upper case (hidden brands vary more)."""
    u = rng.random(state.shape[0])
    shown = np.where(u < 0.9, 0, 1)
    hidden = np.where(u < 0.55, 0, np.where(u < 0.8, 1, 2))
    return np.where(state == 1, hidden, shown)


def _title(world: _World, rng: np.random.Generator, rows: dict) -> pa.Array:
    s, n, kt, kind = world.slots, rows["kind"].shape[0], world.kind_table, rows["kind"]
    zero, every = np.zeros(n, dtype=np.int64), np.ones(n, dtype=bool)
    new_group, multi_at, state = kt["new"][kind], rows["multi_at"], rows["brand_state"]
    at = {k: (rows[f"{k}_at"] & 1) > 0 for k in ("new", "gb", "material", "broken", "authentic")}
    new_pre = rng.random(n) < 0.5
    brand_shown = (state == 1) | ((state == 0) & (rng.random(n) < 0.75))
    size_group = kt["size"][kind]
    has_size = (size_group >= 0) & (rng.random(n) < kt["size_p"][kind])
    multi, gb, material = rows["multi_group"], rows["gb"], rows["material"]
    return _join(
        [
            (s["multi"], s["multi"].pick(rng, multi, (rows["multi"] > 0) & ((multi_at & 5) == 5))),
            (s["auth"], s["auth"].pick(rng, zero, rows["authentic"] & at["authentic"])),
            (s["new_pre"], s["new_pre"].pick(rng, new_group, rows["new"] & at["new"] & new_pre)),
            (s["brand"], s["brand"].at(rows["brand"], _brand_variant(rng, state), brand_shown)),
            (s["adj"], s["adj"].pick(rng, zero, rng.random(n) < 0.25)),
            (
                s["colour"],
                s["colour"].pick(rng, np.maximum(rows["colour"], 0), rows["colour"] >= 0),
            ),
            (
                s["material"],
                s["material"].pick(rng, np.maximum(material, 0), (material >= 0) & at["material"]),
            ),
            (s["noun"], s["noun"].pick(rng, rows["noun"], every)),
            (s["cap"], s["cap"].pick(rng, np.maximum(gb, 0), (gb >= 0) & at["gb"])),
            (s["size"], s["size"].pick(rng, np.maximum(size_group, 0), has_size)),
            (s["multi"], s["multi"].pick(rng, multi, (rows["multi"] > 0) & ((multi_at & 5) == 1))),
            (s["new_suf"], s["new_suf"].pick(rng, new_group, rows["new"] & at["new"] & ~new_pre)),
            (s["broken"], s["broken"].pick(rng, zero, rows["broken"] & at["broken"])),
        ]
    )


def _intro(world: _World, rng: np.random.Generator, rows: dict, has: np.ndarray) -> list:
    """'Selling my Nike leggings in black.' style opening sentence pieces."""
    s, n, zero = world.slots, has.shape[0], np.zeros(has.shape[0], dtype=np.int64)
    with_brand = has & (rows["brand_state"] < 2) & (rng.random(n) < 0.6)
    with_colour = has & (rows["colour"] >= 0) & (rng.random(n) < 0.5)
    colour = s["d_colour"].pick(rng, np.maximum(rows["colour"], 0), with_colour)
    return [
        (s["d_open"], s["d_open"].pick(rng, zero, has)),
        (s["d_brand"], s["d_brand"].pick(rng, rows["brand"], with_brand)),
        (s["d_noun"], s["d_noun"].pick(rng, rows["noun"], has)),
        (s["d_in"], s["d_in"].at(zero, zero, with_colour)),
        (s["d_colour"], colour),
        (s["d_end"], s["d_end"].pick(rng, zero, has)),
    ]


def _token_sentences(world: _World, rng: np.random.Generator, rows: dict) -> list:
    s, n, kt = world.slots, rows["kind"].shape[0], world.kind_table
    zero = np.zeros(n, dtype=np.int64)

    def in_desc(token: str) -> np.ndarray:
        return (rows[f"{token}_at"] & 2) > 0

    return [
        (
            s["d_multi"],
            s["d_multi"].pick(rng, rows["multi_group"], (rows["multi"] > 0) & in_desc("multi")),
        ),
        (s["d_new"], s["d_new"].pick(rng, kt["new"][rows["kind"]], rows["new"] & in_desc("new"))),
        (
            s["d_cap"],
            s["d_cap"].pick(rng, np.maximum(rows["gb"], 0), (rows["gb"] >= 0) & in_desc("gb")),
        ),
        (
            s["d_material"],
            s["d_material"].pick(
                rng, np.maximum(rows["material"], 0), (rows["material"] >= 0) & in_desc("material")
            ),
        ),
        (s["d_broken"], s["d_broken"].pick(rng, zero, rows["broken"] & in_desc("broken"))),
        (s["d_auth"], s["d_auth"].pick(rng, zero, rows["authentic"] & in_desc("authentic"))),
    ]


def _description(world: _World, rng: np.random.Generator, rows: dict) -> pa.Array:
    s, n, kind = world.slots, rows["kind"].shape[0], rows["kind"]
    zero = np.zeros(n, dtype=np.int64)
    has_cond = rng.random(n) < 0.7
    has_intro = ~has_cond | (rng.random(n) < 0.5)
    text = _join(
        [
            (s["d_cond"], s["d_cond"].pick(rng, rows["cond"] - 1, has_cond)),
            *_intro(world, rng, rows, has_intro),
            *_token_sentences(world, rng, rows),
            (s["d_fill"], s["d_fill"].pick(rng, kind, rng.random(n) < 0.5)),
            (s["d_generic"], s["d_generic"].pick(rng, zero, rng.random(n) < 0.45)),
            (s["d_generic"], s["d_generic"].pick(rng, zero, rng.random(n) < 0.15)),
            (s["d_rm"], s["d_rm"].pick(rng, zero, rng.random(n) < 0.08)),
            (s["d_ship"], s["d_ship"].pick(rng, rows["shipping"], rng.random(n) < 0.2)),
        ]
    )
    return pc.if_else(pa.array(rows["no_desc"]), pa.scalar(_NO_DESCRIPTION, pa.string()), text)


# --- assembly ------------------------------------------------------------------------------------
def _chunk(world: _World, rng: np.random.Generator, ids: np.ndarray, ts: np.ndarray) -> pa.Table:
    rows = _draw_rows(world, rng, ids.shape[0])
    category = world.leaf_names.take(pa.array(rows["leaf"], mask=rows["no_category"]))
    brand = world.brand_names.take(pa.array(rows["brand"], mask=rows["brand_state"] != 0))
    columns = [
        pa.array(ids, pa.int64()),
        _title(world, rng, rows),
        pa.array(rows["cond"], pa.int64()),
        category,
        brand,
        pa.array(rows["price"], pa.float64()),
        pa.array(rows["shipping"], pa.int64()),
        _description(world, rng, rows),
        pa.array(ts, pa.timestamp("us")),
    ]
    return pa.Table.from_arrays(columns, schema=_SCHEMA)


def _default_end() -> datetime:
    now = datetime.now(UTC)
    return datetime(now.year, now.month, now.day)


def _to_naive_utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        return moment
    return moment.astimezone(UTC).replace(tzinfo=None)


def _created_at(rng: np.random.Generator, rows: int, end: datetime, days: int) -> np.ndarray:
    """Sorted microsecond timestamps in [end - days, end), busier on weekends."""
    start_us = (end - timedelta(days=days) - _EPOCH) // timedelta(microseconds=1)
    day_start = start_us + np.arange(days, dtype=np.int64) * _US_PER_DAY
    weekday = (day_start // _US_PER_DAY + 3) % 7  # 1970-01-01 was a Thursday
    weights = _DOW_WEIGHTS[weekday]
    day = rng.choice(days, size=rows, p=weights / weights.sum())
    ts = day_start[day] + rng.integers(0, _US_PER_DAY, size=rows, dtype=np.int64)
    ts.sort()
    return ts


def generate_listings(
    rows: int,
    seed: int = 0,
    end: datetime | None = None,
    days: int = 365,
    id_offset: int = 0,
) -> pa.Table:
    """`rows` synthetic listings in the Mercari schema (columns DEMO_COLUMNS), as a pyarrow Table.

    created_at (naive UTC, microseconds) lies in [end - days, end), sorted ascending, so
    train_id = id_offset + row index increases with time; `end` defaults to today's midnight
    UTC. The table is a pure function of (rows, seed, end, days, id_offset): the world is fixed
    by WORLD_SEED and the rows are drawn from `seed`, which alone decides the content (id_offset
    only shifts the ids), so use distinct seeds for batches that should differ.
    """
    if rows < 0 or days < 1 or id_offset < 0:
        raise ValueError(
            f"need rows >= 0, days >= 1, id_offset >= 0; got {rows}, {days}, {id_offset}"
        )
    world, rng = _world(), np.random.default_rng(seed)
    end = _to_naive_utc(end) if end is not None else _default_end()
    ts = _created_at(rng, rows, end, days)
    ids = np.arange(id_offset, id_offset + rows, dtype=np.int64)
    chunks = [
        _chunk(world, rng, ids[i : i + _CHUNK_ROWS], ts[i : i + _CHUNK_ROWS])
        for i in range(0, rows, _CHUNK_ROWS)
    ]
    return pa.concat_tables(chunks) if chunks else _SCHEMA.empty_table()
