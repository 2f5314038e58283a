-- Helper macros the transform compiler uses (mappings/services/transforms.py). Created on every
-- locked-down DuckDB connection before a mapping's SQL runs. Fixed SQL: no user text reaches here.

-- Blank cells and database-export nulls are missing values.
-- trim() copies every value; only values with a space can trim to a marker (one test of a space is cheaper
-- than testing both ends: 8 columns of 1M rows, 0.33 s against 0.375 s).
CREATE MACRO ll_blank_null(v) AS CASE
    WHEN v IS NULL OR v IN ('', 'NULL', 'null', '\N') THEN NULL
    WHEN contains(v, ' ') AND trim(v) IN ('', 'NULL', 'null', '\N') THEN NULL
    ELSE v
END;

CREATE MACRO ll_title(v) AS
    array_to_string(list_transform(string_split(lower(v), ' '), lambda w: upper(left(w, 1)) || substr(w, 2)), ' ');

-- Numbers: currency symbols and spaces go, "(12.00)" and "-12" are negative, "12.5%" is 0.125.
-- ll_num_shape keeps sign, digits, separators and percent; currency codes/symbols and spaces go.
CREATE MACRO ll_num_shape(v) AS regexp_replace(v, '[A-Z]{3}|[^0-9,.()%-]', '', 'g');
CREATE MACRO ll_num_digits(v) AS regexp_replace(v, '[^0-9,.]', '', 'g');
-- A currency mark and a dash alone (" $-   ", "€ -") is Excel's accounting format for zero.
CREATE MACRO ll_num_finish(v, digits) AS
    CASE WHEN regexp_full_match(ll_num_shape(v), '-+') AND regexp_matches(v, '[$€£¥₹]|[A-Z]{3}')
         THEN CAST(0 AS DECIMAL(38, 6))
         WHEN regexp_full_match(ll_num_shape(v), '[-(]?[0-9.,]*[0-9][0-9.,]*[)]?%?-?')
         THEN try_cast(
             try_cast(digits AS DECIMAL(38, 6))
             * (CASE WHEN contains(ll_num_shape(v), '-') OR contains(ll_num_shape(v), '(') THEN -1 ELSE 1 END)
             / (CASE WHEN contains(v, '%') THEN 100 ELSE 1 END)
             AS DECIMAL(38, 6))
    END;
-- Plain numbers ("1234.56", "-12") read the same in English and auto: one cast, no regex rewriting.
-- A warehouse's float ("3.76E+02") is plain too: DuckDB casts it, the rewriting would drop its exponent.
CREATE MACRO ll_num_is_plain(v) AS regexp_full_match(v, '-?[0-9]+([.][0-9]+)?([eE][-+]?[0-9]+)?');
CREATE MACRO ll_num_en_full(v) AS ll_num_finish(v, replace(ll_num_digits(v), ',', ''));
-- A plain value is cast, only the others rewritten: a CASE, not coalesce(plain cast, rewritten), which evaluated
-- the rewriting on every row (0.15 s against 0.07 s per 1M values, bench/RESULTS-attributes.md). The same values:
-- a plain value that does not cast (too many digits) does not cast rewritten either.
CREATE MACRO ll_num_en(v) AS CASE
    WHEN ll_num_is_plain(v) THEN try_cast(v AS DECIMAL(38, 6))
    ELSE ll_num_en_full(v)
END;
CREATE MACRO ll_num_de(v) AS ll_num_finish(v, replace(replace(ll_num_digits(v), '.', ''), ',', '.'));
-- "1.234,56" and "12,5" are German; "1,234" and "1,234,567" are English thousands; "1.234.567" is German.
CREATE MACRO ll_num_is_de(d) AS CASE
    WHEN contains(d, ',') AND contains(d, '.') THEN strpos(reverse(d), ',') < strpos(reverse(d), '.')
    WHEN contains(d, ',') THEN NOT regexp_matches(d, '^[0-9]{1,3}(,[0-9]{3})+$')
    WHEN contains(d, '.') THEN regexp_matches(d, '^[0-9]{1,3}([.][0-9]{3}){2,}$')
    ELSE false
END;
CREATE MACRO ll_num_auto(v) AS CASE
    WHEN ll_num_is_plain(v) THEN try_cast(v AS DECIMAL(38, 6))
    WHEN ll_num_is_de(ll_num_digits(v)) THEN ll_num_de(v)
    ELSE ll_num_en_full(v)
END;

-- `tf`: the true values, then the false ones; `n`: how many are true. One lookup of the value (a value in both
-- lists is true, as it is found first among the true ones); not found is NULL.
CREATE MACRO ll_parse_bool(v, tf, n) AS list_position(tf, lower(trim(v))) <= n;

-- A DECIMAL(38, 6) as a JSON number the way PostgreSQL prints it back from jsonb: no trailing zeros, no bare point.
-- Up to 12 integer digits (nearly every value) as DECIMAL(18, 6), a 64-bit value, whose text is cheap, cut by the
-- zeros the value's remainders show; larger ones by a regular expression (0.07 s against 0.17 s per 1M values).
CREATE MACRO ll_json_number(x) AS CASE
    WHEN abs(x) < 1000000000000 THEN (CAST(CAST(x AS DECIMAL(18, 6)) AS VARCHAR))[1:-1 - CASE
        WHEN CAST(x AS DECIMAL(18, 6)) % 1 = 0 THEN 7
        WHEN CAST(x AS DECIMAL(18, 6)) % 0.1 = 0 THEN 5
        WHEN CAST(x AS DECIMAL(18, 6)) % 0.01 = 0 THEN 4
        WHEN CAST(x AS DECIMAL(18, 6)) % 0.001 = 0 THEN 3
        WHEN CAST(x AS DECIMAL(18, 6)) % 0.0001 = 0 THEN 2
        WHEN CAST(x AS DECIMAL(18, 6)) % 0.00001 = 0 THEN 1
        ELSE 0
    END]
    ELSE regexp_replace(CAST(x AS VARCHAR), '\.?0+$', '')
END;
