// Run with `node --import tsx` (how Pulumi.yaml loads the program): constructs the resource
// provider registration under Pulumi's mocks, in this ES module program's own setting, and
// prints its provider as Pulumi serializes it into the state for the dynamic provider host.
import * as pulumi from '@pulumi/pulumi';

let serialized: string | undefined;
await pulumi.runtime.setMocks(
  {
    newResource(args) {
      if (typeof args.inputs.__provider === 'string') serialized = args.inputs.__provider;
      return { id: `${args.name}-id`, state: args.inputs };
    },
    call() {
      throw new Error('no invokes here');
    },
  },
  'event-driven-aci',
  'serialize',
  false,
);
const { ResourceProviderRegistration } = await import('../../components/resource-provider-registration.js');
const registration = new ResourceProviderRegistration('providers', { subscriptionId: 'sub', namespaces: ['Microsoft.Web'], accessToken: 'token' });
await new Promise((resolve) => registration.urn.apply(resolve));
if (!serialized) throw new Error('the dynamic resource registered no __provider');
process.stdout.write(serialized);
