/**
 * Every area of the product, in navigation order. The renderer's routes, the navigation and the local part of the
 * global search all come from this list.
 */
export const AREA_GROUPS = ['overview', 'compute', 'netStorage', 'providers', 'operations', 'system'] as const;
export type AreaGroup = (typeof AREA_GROUPS)[number];

export const AREA_IDS = [
  'dashboard',
  'hosts',
  'guests',
  'consoles',
  'networks',
  'storage',
  'images',
  'cloud-accounts',
  'baremetal',
  'tasks',
  'monitoring',
  'alerts',
  'reports',
  'projects',
  'audit',
  'settings',
] as const;
export type AreaId = (typeof AREA_IDS)[number];

export interface Area {
  id: AreaId;
  /** The route path: `/` + id. */
  path: string;
  group: AreaGroup;
  /** Name of an @element-plus/icons-vue icon. */
  icon: string;
  /** Key of the area's name under `nav.` in the message files. */
  key: string;
  /** Built views; the others show their empty state. */
  built: boolean;
  /** Extra words the search matches (English; the translated name is matched too). */
  keywords: readonly string[];
}

const def = (id: AreaId, group: AreaGroup, icon: string, key: string, built: boolean, keywords: string[] = []): Area => ({
  id,
  path: `/${id}`,
  group,
  icon,
  key,
  built,
  keywords,
});

export const AREAS: readonly Area[] = [
  def('dashboard', 'overview', 'Odometer', 'dashboard', true, ['home', 'overview', 'summary']),
  def('hosts', 'compute', 'Monitor', 'hosts', true, ['kvm', 'libvirt', 'hypervisor', 'server', 'node', 'vmware', 'esxi']),
  def('guests', 'compute', 'Box', 'guests', true, ['vm', 'virtual machine', 'instance', 'domain']),
  def('consoles', 'compute', 'Platform', 'consoles', true, ['vnc', 'console', 'terminal', 'ssh', 'serial', 'screen', 'shell']),
  def('networks', 'netStorage', 'Connection', 'networks', true, ['bridge', 'vlan', 'vpc', 'subnet', 'zone', 'wire', 'security group', 'eip', 'ip']),
  def('storage', 'netStorage', 'Coin', 'storage', true, ['pool', 'volume', 'disk', 'datastore', 'snapshot']),
  def('images', 'netStorage', 'Files', 'images', true, ['iso', 'template', 'cloud image', 'key pair', 'ssh key']),
  def('cloud-accounts', 'providers', 'Cloudy', 'cloudAccounts', true, ['aws', 'azure', 'gcp', 'aliyun', 'provider', 'public cloud']),
  def('baremetal', 'providers', 'Cpu', 'baremetal', false, ['ipmi', 'redfish', 'physical', 'pxe', 'bmc']),
  def('tasks', 'operations', 'Finished', 'tasks', true, ['jobs', 'progress', 'queue']),
  def('monitoring', 'operations', 'DataLine', 'monitoring', true, ['metrics', 'cpu', 'memory', 'charts']),
  def('alerts', 'operations', 'Bell', 'alerts', true, ['alarm', 'rules', 'notifications']),
  def('reports', 'operations', 'PieChart', 'reports', true, ['capacity', 'usage', 'export', 'csv', 'xlsx', 'pdf', 'cost', 'chargeback', 'snapshot', 'schedule']),
  def('projects', 'system', 'Suitcase', 'projects', true, ['tenant', 'quota', 'usage', 'team']),
  def('audit', 'system', 'Notebook', 'audit', true, ['log', 'history', 'changes', 'who']),
  def('settings', 'system', 'Setting', 'settings', true, ['preferences', 'theme', 'language', 'backup', 'about', 'retention']),
];

export function areaById(id: string): Area | undefined {
  return AREAS.find((a) => a.id === id);
}

/** The area a route path belongs to: `/tasks/abc` → tasks. */
export function areaForPath(path: string): Area | undefined {
  const first = path.split(/[/?#]/).filter(Boolean)[0] ?? '';
  return areaById(first);
}
