// Validates KEDA objects (JSON array on stdin) against KEDA's CRD schemas.
// Prints one line per object; exits 1 if any object is invalid or of an unknown KEDA kind.
import { ScaledObject } from "@kubernetes-models/keda/keda.sh/v1alpha1/ScaledObject";
import { ScaledJob } from "@kubernetes-models/keda/keda.sh/v1alpha1/ScaledJob";
import { TriggerAuthentication } from "@kubernetes-models/keda/keda.sh/v1alpha1/TriggerAuthentication";
import { ClusterTriggerAuthentication } from "@kubernetes-models/keda/keda.sh/v1alpha1/ClusterTriggerAuthentication";

const models = { ScaledObject, ScaledJob, TriggerAuthentication, ClusterTriggerAuthentication };
const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const objects = JSON.parse(Buffer.concat(chunks).toString("utf8"));
let failed = 0;
for (const object of objects) {
  const name = `${object.kind}/${object.metadata?.name}`;
  const Model = models[object.kind];
  if (!Model || object.apiVersion !== "keda.sh/v1alpha1") {
    console.log(`INVALID ${name}: not a known keda.sh/v1alpha1 kind`);
    failed++;
    continue;
  }
  try {
    new Model(object).validate();
    console.log(`valid ${name}`);
  } catch (error) {
    console.log(`INVALID ${name}: ${error.message}`);
    failed++;
  }
}
process.exit(failed ? 1 : 0);
