import type { Document } from 'bson';

/**
 * The maxWireVersion that Cosmos DB for MongoDB (RU) reports for each server version it offers.
 * Cosmos reports MongoDB's own wire version for the version it emulates, as drivers' refusals
 * quoted by users show: 3.6 → 6 (microsoft/vscode-documentdb#453, "MongoDB (RU)"), 4.0 → 7
 * (clearlydefined/service#1431, a *.mongo.cosmos.azure.com host), 4.2 → 8 (liatrio/gratibot#955).
 * For 5.0, 6.0 and 7.0 no capture of a Cosmos answer was found; these are MongoDB's numbers for
 * those versions: WIRE_VERSION_50 = 13 in mongodb/mongo src/mongo/db/wire_version.h, and one
 * more per release after it (5.1 → 14 … 6.0 → 17 … 7.0 → 21). Not verified against a real
 * account (README, "What is verified here").
 */
export const COSMOS_WIRE_VERSIONS: Readonly<Record<string, number>> = {
  '3.6': 6,
  '4.0': 7,
  '4.2': 8,
  '5.0': 13,
  '6.0': 17,
  '7.0': 21,
};

export function cosmosWireVersion(serverVersion: string): number {
  const wire = COSMOS_WIRE_VERSIONS[serverVersion];
  if (wire === undefined) throw new Error(`no known wire version for Cosmos DB for MongoDB ${serverVersion}`);
  return wire;
}

/**
 * The hello / isMaster answer of a Cosmos DB for MongoDB account, for `host` ("name:port").
 * Shape from Microsoft's example answer ("_t", "setName": "globaldb", hosts, primary, me, tags,
 * maxMessageSizeBytes 4194304, maxWriteBatchSize 1000: https://learn.microsoft.com/azure/cosmos-db/mongodb/tutorial-global-distribution),
 * maxBsonObjectSize from the 16 MB document limit (feature page, "Data types"). Not in that
 * example and added here: logicalSessionTimeoutMinutes, because the feature page supports
 * transactions and the driver runs no transaction against a server without it
 * (mongodb/lib/cmap/connection.js: "Current topology does not support sessions"). No helloOk:
 * the driver then keeps using isMaster for monitoring, which every Cosmos version answers.
 */
export function cosmosHello(serverVersion: string, host: string, connectionId: number): Document {
  return {
    _t: 'IsMasterResponse',
    ok: 1,
    ismaster: true,
    isWritablePrimary: true,
    maxBsonObjectSize: 16 * 1024 * 1024,
    maxMessageSizeBytes: 4194304,
    maxWriteBatchSize: 1000,
    localTime: new Date(),
    minWireVersion: 0,
    maxWireVersion: cosmosWireVersion(serverVersion),
    logicalSessionTimeoutMinutes: 30,
    connectionId,
    tags: { region: 'West Europe' },
    hosts: [host],
    setName: 'globaldb',
    setVersion: 1,
    primary: host,
    me: host,
  };
}
