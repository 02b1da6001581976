import type { Migration } from '../migrate';

/**
 * `guests.sync_digest`: a hash of everything the last sync wrote for the guest (its columns as listed, provider tags and
 * NICs: inventory/sync.ts, rowDigest). A re-sync compares each listed guest with it and reads nothing else of a guest
 * whose digest is the same; columns, tags and NICs are loaded and compared only for the others (bench inventory-sync,
 * re-sync of 100k: loading them was a third of the time). NULL means "not known": the next sync compares the rows
 * themselves, as before, and writes the digest again.
 *
 * It must never claim more than is true, so whatever changes a guest other than the sync clears it:
 * - an UPDATE of any column a listing can set (all but GUEST_UNSYNCED_COLUMNS: the keys and the sync's own bookkeeping)
 *   that leaves the digest as it was: the sync's own UPDATEs set a new digest in the same statement, so only other
 *   writers (a task setting `starting`, a move to another project, markVanished) clear it;
 * - every delete and update of its provider tags and NICs (a NIC whose MAC another guest now reports moves to it,
 *   which changes the guest it left);
 * - the places that add a NIC outside the sync (kvm/handlers.ts) clear it themselves. Inserts are not caught by a trigger
 *   on purpose: the sync inserts the tags and NICs of every new guest, and a trigger there would cost each a lookup
 *   (bench inventory-sync, first sync). Provider tags are inserted only by the sync, and by markVanished, which also
 *   sets the status.
 * The sync writes the side rows first and the digest last, in the UPDATE or INSERT of the guest row.
 */
export const GUEST_UNSYNCED_COLUMNS = ['id', 'provider', 'external_id', 'created_at', 'updated_at', 'synced_at', 'stale', 'sync_digest'];

export const m0017: Migration = {
  id: 17,
  name: 'guest_sync_digest',
  up(db) {
    db.exec('ALTER TABLE guests ADD COLUMN sync_digest INTEGER;');
    const synced = (db.pragma('table_info(guests)') as { name: string }[]).map((c) => c.name).filter((c) => !GUEST_UNSYNCED_COLUMNS.includes(c));
    db.exec(`
      CREATE TRIGGER guests_digest_au AFTER UPDATE OF ${synced.join(', ')} ON guests WHEN old.sync_digest IS NOT NULL AND new.sync_digest IS old.sync_digest BEGIN
        UPDATE guests SET sync_digest = NULL WHERE rowid = new.rowid;
      END;
      CREATE TRIGGER guest_nics_digest_ad AFTER DELETE ON guest_nics BEGIN
        UPDATE guests SET sync_digest = NULL WHERE id = old.guest_id AND sync_digest IS NOT NULL;
      END;
      CREATE TRIGGER guest_nics_digest_au AFTER UPDATE ON guest_nics BEGIN
        UPDATE guests SET sync_digest = NULL WHERE id IN (old.guest_id, new.guest_id) AND sync_digest IS NOT NULL;
      END;
      CREATE TRIGGER tags_guest_digest_ad AFTER DELETE ON tags WHEN old.kind = 'guest' AND old.source = 'provider' BEGIN
        UPDATE guests SET sync_digest = NULL WHERE id = old.resource_id AND sync_digest IS NOT NULL;
      END;
      CREATE TRIGGER tags_guest_digest_au AFTER UPDATE ON tags WHEN (old.kind = 'guest' AND old.source = 'provider') OR (new.kind = 'guest' AND new.source = 'provider') BEGIN
        UPDATE guests SET sync_digest = NULL WHERE id IN (old.resource_id, new.resource_id) AND sync_digest IS NOT NULL;
      END;
    `);
  },
};
