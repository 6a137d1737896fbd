/** A small pipeline over SIB-200 rows with the built-in encoder and the 7 topic labels. */
export const TOPICS = ['entertainment', 'geography', 'health', 'politics', 'science/technology', 'sports', 'travel'];

export function embedYaml(data: string, extra = ''): string {
  return `
name: select-test
seed: 3
sources:
  - name: sib
    path: ${data}
    columns: { id: id, label: label }
stages:
  embed: { builtin: { dim: 64 } }
  select:
    labels: [${TOPICS.map((t) => JSON.stringify(t)).join(', ')}]
${extra}`;
}
