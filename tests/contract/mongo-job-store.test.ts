import { describe, expect, it } from 'vitest';
import { MongoJobStore, mongoClientOptions } from '../../apps/core/adapters/mongo-job-store.js';
import { jobStoreContract } from './job-store.contract.js';

// No MongoDB server can run on the development machine or in CI (README: "What is verified
// here"). The contract runs against a real server when MONGODB_URI names one.
const uri = process.env.MONGODB_URI;

if (uri) {
  jobStoreContract('MongoJobStore', async () => {
    const database = `eda-test-${Date.now()}-${Math.floor(Math.random() * 1e6)}`;
    const dbUri = uri.replace(/(mongodb(\+srv)?:\/\/[^/?]*)(\/[^?]*)?/, `$1/${database}`);
    const store = await MongoJobStore.connect(dbUri);
    return { store, uri: dbUri, cleanup: () => store.close() };
  });
} else {
  console.warn('MongoJobStore contract NOT run: set MONGODB_URI to a MongoDB server to run it');
}

describe('MongoJobStore connection options', () => {
  it('turns TLS on for a remote host whose string lost ssl=true, keeping the other parameters', () => {
    const cosmos =
      'mongodb://acct:key@acct.mongo.cosmos.azure.com:10255/?replicaSet=globaldb&retrywrites=false&maxIdleTimeMS=120000';
    expect(mongoClientOptions(cosmos)).toEqual({ tls: true });
  });
  it('leaves TLS as the string says when it says', () => {
    expect(mongoClientOptions('mongodb://h.example.com:10255/?ssl=true')).toEqual({});
    expect(mongoClientOptions('mongodb://h.example.com/?tls=false')).toEqual({});
    expect(mongoClientOptions('mongodb+srv://u:p@cluster.example.net/db')).toEqual({});
  });
  it('does not force TLS on this machine', () => {
    expect(mongoClientOptions('mongodb://localhost:27017/jobs')).toEqual({});
    expect(mongoClientOptions('mongodb://u:p@127.0.0.1:27017,[::1]:27018/?replicaSet=rs')).toEqual({});
  });
});
