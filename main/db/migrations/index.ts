import type { Migration } from '../migrate';
import { m0001 } from './0001_foundation';
import { m0002 } from './0002_inventory';
import { m0003 } from './0003_views';
import { m0004 } from './0004_list_indexes';
import { m0005 } from './0005_kvm';
import { m0006 } from './0006_scheduler';
import { m0007 } from './0007_guest_tag_rowids';
import { m0008 } from './0008_reports';
import { m0009 } from './0009_clouds';
import { m0010 } from './0010_monitoring';
import { m0011 } from './0011_report_mail';
import { m0012 } from './0012_cloud_project_mapping';
import { m0013 } from './0013_report_files';
import { m0014 } from './0014_metric_blocks';
import { m0015 } from './0015_provider_prices';
import { m0016 } from './0016_guest_index_trim';
import { m0017 } from './0017_guest_sync_digest';

/** Every migration in order. Append only: never edit or reorder a released one. */
export const MIGRATIONS: readonly Migration[] = [m0001, m0002, m0003, m0004, m0005, m0006, m0007, m0008, m0009, m0010, m0011, m0012, m0013, m0014, m0015, m0016, m0017];
