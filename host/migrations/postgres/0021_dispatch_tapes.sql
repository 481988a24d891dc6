-- Each dispatch's submit call with its supplier HTTP exchanges, for shadow
-- runs (crate::shadow): the contract order the plugin was given and what
-- the supplier answered, request headers left out (they carry the shop's
-- credentials) and secret settings masked. The last few per binding only
-- (crate::store::TAPES_KEPT). Same as ../sqlite but for the identity column.
CREATE TABLE dispatch_tapes (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    binding TEXT NOT NULL,
    shop TEXT NOT NULL,
    reference TEXT NOT NULL,
    supplier_order TEXT NOT NULL,
    contract_order TEXT NOT NULL,
    exchanges TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX dispatch_tapes_by_binding ON dispatch_tapes (binding, id);
