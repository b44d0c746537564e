// Knows no .proto file: every service is found, described and called
// through server reflection, as grpcurl does.
const assert = require('node:assert/strict');
const grpc = require('@grpc/grpc-js');
const { GrpcReflection } = require('grpc-js-reflection-client');

const target = process.argv[2];
const insecure = grpc.credentials.createInsecure();

// A client of `service`, built from the descriptor reflection returns.
async function clientFor(reflection, service) {
  const descriptor = await reflection.getDescriptorBySymbol(service);
  let object = descriptor.getPackageObject({ keepCase: true, enums: String, longs: String });
  for (const part of service.split('.')) object = object[part];
  assert.ok(object, `reflection gave no definition of ${service}`);
  return new object(target, insecure);
}

function call(client, method, request) {
  return new Promise((resolve, reject) =>
    client[method](request, { deadline: Date.now() + 10000 },
                   (error, response) => (error ? reject(error) : resolve(response))));
}

(async () => {
  const reflection = new GrpcReflection(target, insecure);
  const services = await reflection.listServices();
  const expected = {
    'codec.v1.CodecService': ['Decode', 'Encode'],
    'codec.v1.ModelService': ['GetModel', 'ListDevices', 'ListModels', 'Load', 'Unload'],
    'grpc.health.v1.Health': ['Check', 'Watch'],
  };
  for (const [service, methods] of Object.entries(expected)) {
    assert.ok(services.includes(service), `list lacks ${service}: ${services}`);
    const described = (await reflection.listMethods(service)).map((m) => m.name).sort();
    assert.deepEqual(described, methods, `describe ${service}`);
    console.log(`describe ${service}: ${described.join(', ')}`);
  }

  const health = await clientFor(reflection, 'grpc.health.v1.Health');
  for (const service of ['', 'codec.v1.CodecService', 'codec.v1.ModelService']) {
    const reply = await call(health, 'Check', { service });
    assert.equal(reply.status, 'SERVING', `Check '${service}'`);
    console.log(`Health/Check '${service}': ${reply.status}`);
  }
  await assert.rejects(call(health, 'Check', { service: 'no.such.Service' }),
                       (error) => error.code === grpc.status.NOT_FOUND);

  const models = await clientFor(reflection, 'codec.v1.ModelService');
  const info = await call(models, 'GetModel', { model_id: 'tiny' });
  assert.equal(info.state, 'MODEL_STATE_READY');
  assert.equal(info.description.sample_rate, 24000);
  console.log(`ModelService/GetModel tiny: ${info.state}, ${info.description.family}`);
  const pool = await call(models, 'ListDevices', {});
  assert.ok(pool.devices.some((device) => device.name === 'cpu'), 'ListDevices lacks cpu');
  console.log(`ModelService/ListDevices: ${pool.devices.map((device) => device.name).join(', ')}`);
  process.exit(0);
})().catch((error) => {
  console.error(error);
  process.exit(1);
});
