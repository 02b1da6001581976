// The Azure fake's deterministic inventory: locations, resource groups, VNets/subnets, NSGs, public IPs, NICs, disks,
// snapshots, images, SSH public keys and N virtual machines, all in the ARM wire format of the azure-rest-api-specs
// examples (Compute 2024-07-01, Network 2024-05-01, Resources 2022-12-01). Same options, same inventory.
import { createHash } from 'node:crypto';

export const LOCATIONS = [
  { name: 'eastus', displayName: 'East US', geo: 'US', physical: 'Virginia', lat: '37.3719', long: '-79.8164', pair: 'westus', zones: true },
  { name: 'westus2', displayName: 'West US 2', geo: 'US', physical: 'Washington', lat: '47.233', long: '-119.852', pair: 'westcentralus', zones: true },
  { name: 'westeurope', displayName: 'West Europe', geo: 'Europe', physical: 'Netherlands', lat: '52.3667', long: '4.9', pair: 'northeurope', zones: true },
  { name: 'northeurope', displayName: 'North Europe', geo: 'Europe', physical: 'Ireland', lat: '53.3478', long: '-6.2597', pair: 'westeurope', zones: true },
  { name: 'uksouth', displayName: 'UK South', geo: 'Europe', physical: 'London', lat: '50.941', long: '-0.799', pair: 'ukwest', zones: true },
  { name: 'southeastasia', displayName: 'Southeast Asia', geo: 'Asia Pacific', physical: 'Singapore', lat: '1.283', long: '103.833', pair: 'eastasia', zones: true },
  { name: 'japaneast', displayName: 'Japan East', geo: 'Asia Pacific', physical: 'Tokyo, Saitama', lat: '35.68', long: '139.77', pair: 'japanwest', zones: true },
  { name: 'westcentralus', displayName: 'West Central US', geo: 'US', physical: 'Wyoming', lat: '40.89', long: '-110.234', pair: 'westus2', zones: false },
];

/** VM sizes: name → vCPUs, memory (MB), family (the quota bucket in Compute's quota message). */
export const VM_SIZES = {
  Standard_B1s: { cores: 1, memoryMB: 1024, family: 'standardBSFamily' },
  Standard_B2s: { cores: 2, memoryMB: 4096, family: 'standardBSFamily' },
  Standard_D2s_v5: { cores: 2, memoryMB: 8192, family: 'standardDSv5Family' },
  Standard_D4s_v5: { cores: 4, memoryMB: 16384, family: 'standardDSv5Family' },
  Standard_D8s_v5: { cores: 8, memoryMB: 32768, family: 'standardDSv5Family' },
  Standard_E4s_v5: { cores: 4, memoryMB: 32768, family: 'standardESv5Family' },
  Standard_F4s_v2: { cores: 4, memoryMB: 8192, family: 'standardFSv2Family' },
  Standard_NC6s_v3: { cores: 6, memoryMB: 114688, family: 'standardNCSv3Family' },
  Standard_M416ms_v2: { cores: 416, memoryMB: 11698176, family: 'standardMSv2Family' },
};
const COMMON_SIZES = ['Standard_B1s', 'Standard_B2s', 'Standard_D2s_v5', 'Standard_D4s_v5', 'Standard_D8s_v5', 'Standard_E4s_v5', 'Standard_F4s_v2'];

/** Default SKU restrictions: location (or '*') → sizes not offered there (create/resize → SkuNotAvailable). */
export const DEFAULT_UNAVAILABLE_SKUS = { '*': ['Standard_M416ms_v2'], westeurope: ['Standard_NC6s_v3'], westcentralus: ['Standard_NC6s_v3'] };

export const IMAGES = {
  ubuntu: { imageReference: { publisher: 'Canonical', offer: '0001-com-ubuntu-server-jammy', sku: '22_04-lts-gen2', version: 'latest', exactVersion: '22.04.202411010' }, osType: 'Linux', osName: 'ubuntu', osVersion: '22.04', diskGB: 30 },
  debian: { imageReference: { publisher: 'Debian', offer: 'debian-12', sku: '12-gen2', version: 'latest', exactVersion: '0.20241111.1928' }, osType: 'Linux', osName: 'debian', osVersion: '12', diskGB: 30 },
  windows: { imageReference: { publisher: 'MicrosoftWindowsServer', offer: 'WindowsServer', sku: '2022-datacenter-azure-edition', version: 'latest', exactVersion: '20348.2849.241106' }, osType: 'Windows', osName: 'Windows Server 2022 Datacenter Azure Edition', osVersion: 'Microsoft Windows NT 10.0.20348.0', diskGB: 127 },
};

/** A stable pseudo-random GUID from a seed string. */
export function guid(seed) {
  const h = createHash('sha256').update(seed).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}
/** @param {string} seed @param {number} n */
const hex = (seed, n) => createHash('sha256').update(seed).digest('hex').slice(0, n);

/**
 * The OpenSSH public key line of an RSA public key (what sshPublicKeys and linuxConfiguration.ssh hold).
 * @param {import('node:crypto').KeyObject} publicKey
 * @param {string} comment
 */
export function opensshRsa(publicKey, comment) {
  const { n, e } = /** @type {{ n: string, e: string }} */ (publicKey.export({ format: 'jwk' }));
  /** @param {Buffer} b */
  const mpint = (b) => (b[0] !== undefined && b[0] & 0x80 ? Buffer.concat([Buffer.from([0]), b]) : b);
  /** @param {Buffer} b */
  const str = (b) => { const l = Buffer.alloc(4); l.writeUInt32BE(b.length); return Buffer.concat([l, b]); };
  const blob = Buffer.concat([str(Buffer.from('ssh-rsa')), str(mpint(Buffer.from(e, 'base64url'))), str(mpint(Buffer.from(n, 'base64url')))]);
  return `ssh-rsa ${blob.toString('base64')} ${comment}`;
}

/**
 * @typedef {{ subscriptionId: string, vms: number, vmsPerGroup: number, sshKeys: string[], created: string }} ModelOptions
 * @typedef {{ kind: string, obj: any }} Entry
 */

/**
 * Builds the inventory. Answers { resourceGroups: [], resources: [] (ARM objects), power: Map(vm id lower → state) }.
 * @param {ModelOptions} o
 */
export function buildModel(o) {
  const sub = `/subscriptions/${o.subscriptionId}`;
  const t0 = o.created;
  /** @type {any[]} */ const groups = [];
  /** @type {any[]} */ const res = [];
  /** @type {Map<string, string>} */ const power = new Map();
  /** @param {string} name @param {string} location @param {Record<string, string>} [tags] */
  const rg = (name, location, tags) => {
    groups.push({ id: `${sub}/resourceGroups/${name}`, name, type: 'Microsoft.Resources/resourceGroups', location, ...(tags ? { tags } : {}), properties: { provisioningState: 'Succeeded' } });
  };
  rg('rg-shared', 'eastus', { purpose: 'shared' });
  const keyIds = o.sshKeys.map((key, i) => {
    const name = `key-${['ops', 'deploy', 'backup'][i] ?? `k${i}`}`;
    const id = `${sub}/resourceGroups/rg-shared/providers/Microsoft.Compute/sshPublicKeys/${name}`;
    res.push({ name, id, type: 'Microsoft.Compute/sshPublicKeys', location: 'eastus', tags: {}, properties: { publicKey: key } });
    return id;
  });

  const L = LOCATIONS.length;
  const perLoc = LOCATIONS.map((_, k) => Math.floor(o.vms / L) + (k < o.vms % L ? 1 : 0));
  LOCATIONS.forEach((loc, k) => {
    const netRg = `rg-net-${loc.name}`;
    rg(netRg, loc.name, { purpose: 'network' });
    const netBase = `${sub}/resourceGroups/${netRg}/providers/Microsoft.Network`;
    const nsgId = `${netBase}/networkSecurityGroups/nsg-${loc.name}`;
    const vnetId = `${netBase}/virtualNetworks/vnet-${loc.name}`;
    const rule = (name, priority, port, source = '*') => ({
      name, id: `${nsgId}/securityRules/${name}`, etag: `W/"${guid(`${nsgId}${name}etag`)}"`, type: 'Microsoft.Network/networkSecurityGroups/securityRules',
      properties: { provisioningState: 'Succeeded', protocol: 'Tcp', sourcePortRange: '*', destinationPortRange: port, sourceAddressPrefix: source, destinationAddressPrefix: '*', access: 'Allow', priority, direction: 'Inbound', sourcePortRanges: [], destinationPortRanges: [], sourceAddressPrefixes: [], destinationAddressPrefixes: [] },
    });
    res.push({
      name: `nsg-${loc.name}`, id: nsgId, etag: `W/"${guid(`${nsgId}etag`)}"`, type: 'Microsoft.Network/networkSecurityGroups', location: loc.name, tags: {},
      properties: {
        provisioningState: 'Succeeded', resourceGuid: guid(nsgId),
        securityRules: [rule('allow-ssh', 100, '22', '203.0.113.0/24'), rule('allow-https', 110, '443')],
        defaultSecurityRules: [
          { name: 'AllowVnetInBound', id: `${nsgId}/defaultSecurityRules/AllowVnetInBound`, type: 'Microsoft.Network/networkSecurityGroups/defaultSecurityRules', properties: { provisioningState: 'Succeeded', description: 'Allow inbound traffic from all VMs in VNET', protocol: '*', sourcePortRange: '*', destinationPortRange: '*', sourceAddressPrefix: 'VirtualNetwork', destinationAddressPrefix: 'VirtualNetwork', access: 'Allow', priority: 65000, direction: 'Inbound' } },
          { name: 'DenyAllInBound', id: `${nsgId}/defaultSecurityRules/DenyAllInBound`, type: 'Microsoft.Network/networkSecurityGroups/defaultSecurityRules', properties: { provisioningState: 'Succeeded', description: 'Deny all inbound traffic', protocol: '*', sourcePortRange: '*', destinationPortRange: '*', sourceAddressPrefix: '*', destinationAddressPrefix: '*', access: 'Deny', priority: 65500, direction: 'Inbound' } },
        ],
        subnets: [{ id: `${vnetId}/subnets/default` }, { id: `${vnetId}/subnets/app` }],
      },
    });
    const subnet = (name, prefix) => ({
      name, id: `${vnetId}/subnets/${name}`, etag: `W/"${guid(`${vnetId}${name}etag`)}"`, type: 'Microsoft.Network/virtualNetworks/subnets',
      properties: { provisioningState: 'Succeeded', addressPrefix: prefix, networkSecurityGroup: { id: nsgId }, ipConfigurations: [], delegations: [], privateEndpointNetworkPolicies: 'Disabled', privateLinkServiceNetworkPolicies: 'Enabled' },
    });
    res.push({
      name: `vnet-${loc.name}`, id: vnetId, etag: `W/"${guid(`${vnetId}etag`)}"`, type: 'Microsoft.Network/virtualNetworks', location: loc.name, tags: { env: 'prod' },
      properties: {
        provisioningState: 'Succeeded', resourceGuid: guid(vnetId), addressSpace: { addressPrefixes: [`10.${k + 1}.0.0/16`] },
        subnets: [subnet('default', `10.${k + 1}.0.0/18`), subnet('app', `10.${k + 1}.64.0/20`)],
        virtualNetworkPeerings: [], enableDdosProtection: false,
      },
    });

    const groupsHere = Math.max(1, Math.ceil((perLoc[k] ?? 0) / o.vmsPerGroup));
    for (let g = 0; g < groupsHere; g++) rg(`rg-${loc.name}-${g}`, loc.name, { env: ['prod', 'staging', 'dev'][g % 3] ?? 'dev' });
    const imgRg = `rg-${loc.name}-0`;
    for (let j = 0; j < (perLoc[k] ?? 0); j++) {
      const i = j * L + k; // global index: VMs interleave across locations
      const group = `rg-${loc.name}-${Math.floor(j / o.vmsPerGroup)}`;
      const base = `${sub}/resourceGroups/${group}/providers`;
      const name = `vm-${String(i).padStart(5, '0')}`;
      const id = `${base}/Microsoft.Compute/virtualMachines/${name}`;
      const image = i % 7 === 3 ? IMAGES.windows : i % 3 === 1 ? IMAGES.debian : IMAGES.ubuntu;
      const size = COMMON_SIZES[i % COMMON_SIZES.length] ?? 'Standard_B2s';
      const zones = loc.zones ? [String((i % 3) + 1)] : undefined;
      const nicId = `${base}/Microsoft.Network/networkInterfaces/${name}-nic`;
      const osDiskName = `${name}_OsDisk_1_${hex(id, 32)}`;
      const osDiskId = `${base}/Microsoft.Compute/disks/${osDiskName}`;
      const tags = { env: ['prod', 'staging', 'dev'][i % 3] ?? 'dev', team: ['web', 'data', 'ops', 'ml'][i % 4] ?? 'ops', ...(i % 5 === 0 ? { project: `proj-${i % 4}` } : {}) };
      const created = new Date(Date.parse(t0) - (i % 900) * 86400_000 - i * 1000).toISOString();
      const dataDisks = [];
      const disk = (dname, did, sizeGB, managedBy, extra = {}) => ({
        name: dname, id: did, type: 'Microsoft.Compute/disks', location: loc.name, tags: {}, ...(zones ? { zones } : {}),
        ...(managedBy ? { managedBy } : {}),
        sku: { name: 'Premium_LRS', tier: 'Premium' },
        properties: { ...extra, diskSizeGB: sizeGB, diskIOPSReadWrite: 120, diskMBpsReadWrite: 25, encryption: { type: 'EncryptionAtRestWithPlatformKey' }, networkAccessPolicy: 'AllowAll', publicNetworkAccess: 'Enabled', timeCreated: created, provisioningState: 'Succeeded', diskState: managedBy ? 'Attached' : 'Unattached', diskSizeBytes: sizeGB * 1073741824, uniqueId: guid(did), tier: sizeGB > 64 ? 'P10' : 'P4' },
      });
      if (i % 3 === 0) {
        const dn = `${name}-data0`;
        const did = `${base}/Microsoft.Compute/disks/${dn}`;
        dataDisks.push({ lun: 0, name: dn, createOption: 'Attach', caching: 'ReadOnly', managedDisk: { storageAccountType: 'Premium_LRS', id: did }, deleteOption: 'Detach', diskSizeGB: 128, toBeDetached: false });
        res.push(disk(dn, did, 128, id, { creationData: { createOption: 'Empty' } }));
      }
      res.push(disk(osDiskName, osDiskId, image.diskGB, id, {
        osType: image.osType, hyperVGeneration: 'V2', supportedCapabilities: { architecture: 'x64' },
        creationData: { createOption: 'FromImage', imageReference: { id: `/Subscriptions/${o.subscriptionId}/Providers/Microsoft.Compute/Locations/${loc.name}/Publishers/${image.imageReference.publisher}/ArtifactTypes/VMImage/Offers/${image.imageReference.offer}/Skus/${image.imageReference.sku}/Versions/${image.imageReference.exactVersion}` } },
      }));
      let pipId;
      if (i % 4 === 0) {
        pipId = `${base}/Microsoft.Network/publicIPAddresses/${name}-ip`;
        res.push({
          name: `${name}-ip`, id: pipId, etag: `W/"${guid(`${pipId}etag`)}"`, type: 'Microsoft.Network/publicIPAddresses', location: loc.name, tags: {}, ...(zones ? { zones } : {}),
          sku: { name: 'Standard', tier: 'Regional' },
          properties: { provisioningState: 'Succeeded', resourceGuid: guid(pipId), ipAddress: `20.${(k * 16 + (i >> 16)) & 255}.${(i >> 8) & 255}.${i & 255}`, publicIPAddressVersion: 'IPv4', publicIPAllocationMethod: 'Static', idleTimeoutInMinutes: 4, ipTags: [], ipConfiguration: { id: `${nicId}/ipConfigurations/ipconfig1` } },
        });
      }
      const host = j + 4;
      const subnetId = `${vnetId}/subnets/default`;
      res.push({
        name: `${name}-nic`, id: nicId, etag: `W/"${guid(`${nicId}etag`)}"`, type: 'Microsoft.Network/networkInterfaces', location: loc.name, tags: {},
        properties: {
          provisioningState: 'Succeeded', resourceGuid: guid(nicId),
          ipConfigurations: [{
            name: 'ipconfig1', id: `${nicId}/ipConfigurations/ipconfig1`, etag: `W/"${guid(`${nicId}ipc`)}"`, type: 'Microsoft.Network/networkInterfaces/ipConfigurations',
            properties: { provisioningState: 'Succeeded', privateIPAddress: `10.${k + 1}.${host >> 8}.${host & 255}`, privateIPAllocationMethod: 'Dynamic', subnet: { id: subnetId }, primary: true, privateIPAddressVersion: 'IPv4', ...(pipId ? { publicIPAddress: { id: pipId } } : {}) },
          }],
          dnsSettings: { dnsServers: [], appliedDnsServers: [], internalDomainNameSuffix: `${hex(`${loc.name}dns`, 24)}.bx.internal.cloudapp.net` },
          macAddress: `00-0D-3A-${hex(nicId, 6).toUpperCase().match(/../g)?.join('-')}`,
          enableAcceleratedNetworking: size !== 'Standard_B1s' && size !== 'Standard_B2s', vnetEncryptionSupported: false, enableIPForwarding: false,
          networkSecurityGroup: { id: nsgId }, primary: true, virtualMachine: { id }, nicType: 'Standard', auxiliaryMode: 'None',
        },
      });
      const linux = image.osType === 'Linux';
      res.push({
        name, id, type: 'Microsoft.Compute/virtualMachines', location: loc.name, tags, ...(zones ? { zones } : {}),
        properties: {
          vmId: guid(`${id}vmid`),
          hardwareProfile: { vmSize: size },
          storageProfile: {
            imageReference: { ...image.imageReference },
            osDisk: { osType: image.osType, name: osDiskName, createOption: 'FromImage', caching: 'ReadWrite', managedDisk: { storageAccountType: 'Premium_LRS', id: osDiskId }, deleteOption: 'Delete', diskSizeGB: image.diskGB },
            dataDisks,
            diskControllerType: 'SCSI',
          },
          osProfile: {
            computerName: name, adminUsername: 'azureuser',
            ...(linux
              ? { linuxConfiguration: { disablePasswordAuthentication: true, ssh: { publicKeys: [{ path: '/home/azureuser/.ssh/authorized_keys', keyData: o.sshKeys[i % o.sshKeys.length] ?? '' }] }, provisionVMAgent: true, patchSettings: { patchMode: 'ImageDefault', assessmentMode: 'ImageDefault' }, enableVMAgentPlatformUpdates: false } }
              : { windowsConfiguration: { provisionVMAgent: true, enableAutomaticUpdates: true, patchSettings: { patchMode: 'AutomaticByOS', assessmentMode: 'ImageDefault' }, enableVMAgentPlatformUpdates: false } }),
            secrets: [], allowExtensionOperations: true, requireGuestProvisionSignal: true,
          },
          securityProfile: { uefiSettings: { secureBootEnabled: true, vTpmEnabled: true }, securityType: 'TrustedLaunch' },
          networkProfile: { networkInterfaces: [{ id: nicId, properties: { deleteOption: 'Delete' } }] },
          diagnosticsProfile: { bootDiagnostics: { enabled: true } },
          provisioningState: 'Succeeded',
          timeCreated: created,
        },
      });
      power.set(id.toLowerCase(), i % 10 === 7 ? 'stopped' : i % 10 === 8 ? 'deallocated' : 'running');
    }
    // Unattached disks, snapshots of the first OS disks, one custom image per location.
    const orphanBase = `${sub}/resourceGroups/${imgRg}/providers/Microsoft.Compute`;
    for (let d = 0; d < 3; d++) {
      const dn = `orphan-${loc.name}-${d}`;
      const did = `${orphanBase}/disks/${dn}`;
      res.push({
        name: dn, id: did, type: 'Microsoft.Compute/disks', location: loc.name, tags: { orphan: 'true' }, sku: { name: 'StandardSSD_LRS', tier: 'Standard' },
        properties: { creationData: { createOption: 'Empty' }, diskSizeGB: 64, encryption: { type: 'EncryptionAtRestWithPlatformKey' }, networkAccessPolicy: 'AllowAll', publicNetworkAccess: 'Enabled', timeCreated: t0, provisioningState: 'Succeeded', diskState: 'Unattached', diskSizeBytes: 64 * 1073741824, uniqueId: guid(did), tier: 'E6' },
      });
    }
    const firstVm = res.find((r) => r.type === 'Microsoft.Compute/virtualMachines' && r.location === loc.name);
    if (firstVm) {
      for (let s = 0; s < 2; s++) {
        const sn = `snap-${loc.name}-${s}`;
        const sid = `${orphanBase}/snapshots/${sn}`;
        res.push({
          name: sn, id: sid, type: 'Microsoft.Compute/snapshots', location: loc.name, tags: {}, sku: { name: 'Standard_LRS', tier: 'Standard' },
          properties: { osType: firstVm.properties.storageProfile.osDisk.osType, hyperVGeneration: 'V2', creationData: { createOption: 'Copy', sourceResourceId: firstVm.properties.storageProfile.osDisk.managedDisk.id, sourceUniqueId: guid(firstVm.properties.storageProfile.osDisk.managedDisk.id) }, diskSizeGB: firstVm.properties.storageProfile.osDisk.diskSizeGB, encryption: { type: 'EncryptionAtRestWithPlatformKey' }, incremental: s === 1, networkAccessPolicy: 'AllowAll', publicNetworkAccess: 'Enabled', timeCreated: t0, provisioningState: 'Succeeded', diskState: 'Unattached', diskSizeBytes: firstVm.properties.storageProfile.osDisk.diskSizeGB * 1073741824, uniqueId: guid(sid) },
        });
      }
      const imn = `img-${loc.name}-golden`;
      const imid = `${orphanBase}/images/${imn}`;
      res.push({
        name: imn, id: imid, type: 'Microsoft.Compute/images', location: loc.name, tags: { golden: 'true' },
        properties: {
          storageProfile: { osDisk: { osType: 'Linux', osState: 'Generalized', snapshot: { id: `${orphanBase}/snapshots/snap-${loc.name}-0` }, caching: 'ReadWrite', storageAccountType: 'Premium_LRS', diskSizeGB: 30 }, dataDisks: [], zoneResilient: loc.zones },
          provisioningState: 'Succeeded', hyperVGeneration: 'V2',
        },
      });
    }
  });
  return { groups, resources: res, power, keyIds };
}

/** "11/27/2026 9:10:41 AM" as ARM prints times in token errors. @param {Date} d */
export function armTime(d) {
  const h = d.getUTCHours();
  return `${d.getUTCMonth() + 1}/${d.getUTCDate()}/${d.getUTCFullYear()} ${h % 12 || 12}:${String(d.getUTCMinutes()).padStart(2, '0')}:${String(d.getUTCSeconds()).padStart(2, '0')} ${h < 12 ? 'AM' : 'PM'}`;
}

/** The subscription locations list entry (Microsoft.Resources subscriptions/locations, 2022-12-01). */
export function locationEntry(subscriptionId, l) {
  return {
    id: `/subscriptions/${subscriptionId}/locations/${l.name}`, name: l.name, type: 'Region', displayName: l.displayName, regionalDisplayName: `(${l.geo}) ${l.displayName}`,
    metadata: { regionType: 'Physical', regionCategory: l.zones ? 'Recommended' : 'Other', geography: l.geo === 'US' ? 'United States' : l.geo, geographyGroup: l.geo, longitude: l.long, latitude: l.lat, physicalLocation: l.physical, pairedRegion: [{ name: l.pair, id: `/subscriptions/${subscriptionId}/locations/${l.pair}` }] },
    ...(l.zones ? { availabilityZoneMappings: ['1', '2', '3'].map((z) => ({ logicalZone: z, physicalZone: `${l.name}-az${z}` })) } : {}),
  };
}
