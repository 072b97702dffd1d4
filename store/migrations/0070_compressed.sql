-- 0070: compressed evidence and listing versions.
--
-- encoding says how request_bytes and response_bytes are stored: '' as
-- received, 'zstd' each compressed with Zstandard (RFC 8878). The sha256,
-- payload_sha256 and WARC digests are always those of the exact bytes
-- received, which decompression gives back; rows stored before this
-- migration keep '' and are read as before.
ALTER TABLE evidence ADD COLUMN encoding TEXT NOT NULL DEFAULT '' CHECK (encoding IN ('', 'zstd'));

-- packed holds a listing version's description, fields and text as
-- zstd-compressed JSON ({"description": …, "fields": {…}, "text": …}); the
-- plain columns are then empty. The listing's current content stays plain
-- in listings (searched by text), so it is no longer stored twice in full.
ALTER TABLE listing_versions ADD COLUMN packed BLOB;
