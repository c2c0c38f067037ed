-- mailvault store schema, version 3: the complete current schema.
--
-- store/store.c runs this on an empty file inside the transaction that
-- creates the store; PRAGMA user_version says which schema a file has, and
-- a later version adds migrations beside this file while this stays the
-- whole current schema.
--
-- Columns named *_hash hold keyed BLAKE2b-256 hashes (lookups by name or by
-- content without decrypting). BLOB columns marked "sealed" hold
-- nonce(24) || XChaCha20-Poly1305 ciphertext || tag, with associated data
-- "table\0column\0rowkey" binding each value to its row (store/crypt.c).
-- Everything else is plain: ids, UIDs, flag bits, sizes, dates, MODSEQs.
-- Ids are AUTOINCREMENT so they are never reused: a session still holding
-- the id of a deleted mailbox or content never reaches another one. A row
-- whose sealed value names its own id is inserted first with an empty
-- placeholder, then given its sealed value.
PRAGMA user_version = 3;

-- The master key wrapped under a key derived from the passphrase with
-- Argon2id; the parameters are stored so a store describes itself.
CREATE TABLE keyslot (
	id		INTEGER PRIMARY KEY AUTOINCREMENT,
	alg		INTEGER NOT NULL,	-- crypto_pwhash algorithm id
	opslimit	INTEGER NOT NULL,
	memlimit	INTEGER NOT NULL,
	salt		BLOB NOT NULL,
	wrapped		BLOB NOT NULL		-- sealed master key, AD names slot
);

-- Plain store-wide counters (the last UIDVALIDITY handed out).
CREATE TABLE counter (
	name		TEXT PRIMARY KEY,
	value		INTEGER NOT NULL
) WITHOUT ROWID;
INSERT INTO counter (name, value) VALUES ('uidvalidity', 0);

-- Store-wide settings: local password, TLS key and certificate, options.
CREATE TABLE config (
	key_hash	BLOB PRIMARY KEY,
	name		BLOB NOT NULL,		-- sealed key
	value		BLOB NOT NULL		-- sealed value
);

CREATE TABLE account (
	id		INTEGER PRIMARY KEY AUTOINCREMENT,
	name_hash	BLOB NOT NULL UNIQUE,
	name		BLOB NOT NULL		-- sealed
);

CREATE TABLE account_setting (
	account		INTEGER NOT NULL REFERENCES account(id) ON DELETE CASCADE,
	key_hash	BLOB NOT NULL,
	name		BLOB NOT NULL,		-- sealed key
	value		BLOB NOT NULL,		-- sealed value
	PRIMARY KEY (account, key_hash)
);

-- Keyword names per account; messages refer to them by id. The hash is of
-- the ASCII-lowercased name (keywords match case-insensitively), the sealed
-- name keeps the first spelling seen.
CREATE TABLE keyword (
	account		INTEGER NOT NULL REFERENCES account(id) ON DELETE CASCADE,
	id		INTEGER NOT NULL,
	name_hash	BLOB NOT NULL,
	name		BLOB NOT NULL,		-- sealed
	PRIMARY KEY (account, id),
	UNIQUE (account, name_hash)
) WITHOUT ROWID;

-- recent_mark: the lowest UID no session has yet seen as \Recent.
CREATE TABLE mailbox (
	id		INTEGER PRIMARY KEY AUTOINCREMENT,
	account		INTEGER NOT NULL REFERENCES account(id) ON DELETE CASCADE,
	name_hash	BLOB NOT NULL,
	name		BLOB NOT NULL,		-- sealed
	uidvalidity	INTEGER NOT NULL,
	uidnext		INTEGER NOT NULL,
	highestmodseq	INTEGER NOT NULL,
	recent_mark	INTEGER NOT NULL,
	special_use	INTEGER NOT NULL DEFAULT 0,
	subscribed	INTEGER NOT NULL DEFAULT 0,
	UNIQUE (account, name_hash)
);
CREATE INDEX mailbox_account ON mailbox(account);

-- One row per distinct message byte sequence, shared by every message that
-- has those bytes. hash is NULL while a large append is still streaming
-- its chunks in; created lets an abandoned one be cleaned up later. refs
-- counts the message rows pointing here (kept by the triggers below).
CREATE TABLE content (
	id		INTEGER PRIMARY KEY AUTOINCREMENT,
	hash		BLOB UNIQUE,
	size		INTEGER NOT NULL,
	nchunks		INTEGER NOT NULL,
	refs		INTEGER NOT NULL DEFAULT 0,
	mime		BLOB,			-- sealed serialized MIME tree
	created		INTEGER NOT NULL
);

-- STORE_CHUNK_SIZE plaintext bytes each (the last may be shorter); data is
-- sealed (method byte || zstd frame or raw bytes), its AD naming content,
-- index and whether it is the last.
CREATE TABLE chunk (
	content		INTEGER NOT NULL REFERENCES content(id) ON DELETE CASCADE,
	idx		INTEGER NOT NULL,
	data		BLOB NOT NULL,
	PRIMARY KEY (content, idx)
);

-- Summaries of contents for IMAP metadata commands (store/summary.c), 128
-- contents to a block: block = content id >> 7; data is sealed (AD names
-- the block) zstd of an index and the records (lib/msg_summary.h: the
-- ENVELOPE, the SEARCH FROM/TO/CC/BCC/SUBJECT texts, the Date). Written at
-- the commit that stores new content; a content without a record (stored
-- before version 2, or too large) is read from its MIME tree instead.
-- Version 1 stores get this table when they are opened (store/store.c).
CREATE TABLE summary (
	block		INTEGER PRIMARY KEY,
	data		BLOB NOT NULL
);

-- keywords: ascending little-endian uint32 keyword ids, NULL for none.
CREATE TABLE message (
	mailbox		INTEGER NOT NULL REFERENCES mailbox(id) ON DELETE CASCADE,
	uid		INTEGER NOT NULL,
	flags		INTEGER NOT NULL,
	modseq		INTEGER NOT NULL,
	internaldate	INTEGER NOT NULL,
	tzoff		INTEGER NOT NULL,
	size		INTEGER NOT NULL,
	content		INTEGER NOT NULL REFERENCES content(id),
	keywords	BLOB,
	PRIMARY KEY (mailbox, uid)
) WITHOUT ROWID;
CREATE INDEX message_modseq ON message(mailbox, modseq);
CREATE INDEX message_content ON message(content, mailbox);

-- Messages a POP3 client deleted while pop3-delete is "hide": IMAP still
-- has them, later POP3 maildrops leave them out. It is state of its own,
-- not a flag bit or a keyword, so IMAP never shows it, no MODSEQ moves for
-- it, and COPY and MOVE (a new message row) never carry it; the trigger
-- below forgets it with its message. Schema 2 stores get this table when
-- they are opened, and their $POP3Deleted keywords become rows here
-- (store/store.c).
CREATE TABLE pop3_hidden (
	mailbox		INTEGER NOT NULL REFERENCES mailbox(id) ON DELETE CASCADE,
	uid		INTEGER NOT NULL,
	PRIMARY KEY (mailbox, uid)
) WITHOUT ROWID;

-- Tombstones of expunged UIDs with the MODSEQ of their removal (VANISHED).
CREATE TABLE expunged (
	mailbox		INTEGER NOT NULL REFERENCES mailbox(id) ON DELETE CASCADE,
	uid		INTEGER NOT NULL,
	modseq		INTEGER NOT NULL,
	PRIMARY KEY (mailbox, uid)
) WITHOUT ROWID;
CREATE INDEX expunged_modseq ON expunged(mailbox, modseq);

-- Content reference counting: content nobody points at any more goes,
-- and its chunks with it (also when a mailbox or an account is deleted,
-- since cascaded deletes fire these triggers).
CREATE TRIGGER message_ref AFTER INSERT ON message BEGIN
	UPDATE content SET refs = refs + 1 WHERE id = new.content;
END;
CREATE TRIGGER message_unref AFTER DELETE ON message BEGIN
	UPDATE content SET refs = refs - 1 WHERE id = old.content;
	DELETE FROM content WHERE id = old.content AND refs <= 0;
END;
CREATE TRIGGER message_pop3_forget AFTER DELETE ON message BEGIN
	DELETE FROM pop3_hidden WHERE mailbox = old.mailbox AND uid = old.uid;
END;
CREATE TRIGGER message_reref AFTER UPDATE OF content ON message
WHEN old.content <> new.content BEGIN
	UPDATE content SET refs = refs + 1 WHERE id = new.content;
	UPDATE content SET refs = refs - 1 WHERE id = old.content;
	DELETE FROM content WHERE id = old.content AND refs <= 0;
END;

-- ---- Sync (issue 5) ---------------------------------------------------------
--
-- The sync engine (sync/) keeps, per account with an upstream, what it last
-- agreed with the server. It is state-based, like isync: local changes made
-- while offline are found by comparing the store with these rows (MODSEQs
-- and tombstones say where to look), so nothing has to be recorded as it
-- happens and a change undone offline costs nothing. A row here is written
-- in the same transaction as the change it describes, so a crash at any
-- point resumes without a duplicate or a loss.

-- One remote folder paired with a local mailbox. mailbox becomes NULL when
-- the local mailbox is deleted: the engine then deletes the remote folder.
-- A name that differs from the mailbox's is a local rename to push.
-- uidnext: every remote UID below it has been pulled (or was skipped on
-- purpose); highestmodseq: remote flag changes up to it are applied;
-- local_modseq: local changes up to this mailbox MODSEQ are pushed.
CREATE TABLE sync_folder (
	id		INTEGER PRIMARY KEY AUTOINCREMENT,
	account		INTEGER NOT NULL REFERENCES account(id) ON DELETE CASCADE,
	mailbox		INTEGER UNIQUE REFERENCES mailbox(id) ON DELETE SET NULL,
	name		BLOB NOT NULL,		-- sealed remote name, AD names id
	uidvalidity	INTEGER NOT NULL DEFAULT 0,
	uidnext		INTEGER NOT NULL DEFAULT 1,
	highestmodseq	INTEGER NOT NULL DEFAULT 0,
	local_modseq	INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX sync_folder_account ON sync_folder(account);

-- The remote identity of a local message (mailbox, uid): folder,
-- UIDVALIDITY and UID upstream, and the flags and keyword ids both sides
-- had at the last sync (the base of the three-way merge). ruid is NULL
-- while an APPEND of the local message is in flight (state 1: about to be
-- sent; state 2: sent, the server gave no UID): the next pull binds it by
-- content instead of fetching a duplicate. content is the local content id,
-- kept after the message is expunged so that a local move (a new message
-- with the same content elsewhere) becomes a remote MOVE. A row whose
-- message is gone is a local expunge still to push.
CREATE TABLE sync_msg (
	mailbox		INTEGER NOT NULL REFERENCES mailbox(id) ON DELETE CASCADE,
	uid		INTEGER NOT NULL,
	folder		INTEGER NOT NULL REFERENCES sync_folder(id)
			    ON DELETE CASCADE,
	ruidvalidity	INTEGER NOT NULL,
	ruid		INTEGER,
	state		INTEGER NOT NULL DEFAULT 0,
	flags		INTEGER NOT NULL,
	keywords	BLOB,
	content		INTEGER NOT NULL,
	PRIMARY KEY (mailbox, uid)
) WITHOUT ROWID;
CREATE UNIQUE INDEX sync_msg_remote ON sync_msg(folder, ruidvalidity, ruid);
CREATE INDEX sync_msg_content ON sync_msg(content);

-- POP3: the UIDLs fetched (as keyed hashes: never listed, only looked up),
-- with the time of the fetch for "delete after N days".
CREATE TABLE sync_pop3 (
	account		INTEGER NOT NULL REFERENCES account(id) ON DELETE CASCADE,
	uidl_hash	BLOB NOT NULL,
	fetched		INTEGER NOT NULL,
	PRIMARY KEY (account, uidl_hash)
) WITHOUT ROWID;

-- Remote messages the server would not give (a UID FETCH that brought no
-- body for them): the engine asks again on later runs, `tries` times in
-- all, then gives up on them (store/store.c's migration adds this table
-- to schema 1 stores).
CREATE TABLE sync_refused (
	folder		INTEGER NOT NULL REFERENCES sync_folder(id)
			    ON DELETE CASCADE,
	ruidvalidity	INTEGER NOT NULL,
	ruid		INTEGER NOT NULL,
	tries		INTEGER NOT NULL,
	PRIMARY KEY (folder, ruidvalidity, ruid)
) WITHOUT ROWID;
