// The Hugging Face files of a model trained from scratch and of its open
// release, read by Hugging Face's own tokenizer (npm `tokenizers`): the ids it
// gives from the written tokenizer.json must be modelgate's ids from the
// vocab.txt the model was trained with.
//
// Usage: node hf_folder_test.js MODELGATE
'use strict';

const fs = require('node:fs');
const path = require('node:path');
const h = require('./harness');

const clients = h.requireClients(['tokenizers']);
const binary = path.resolve(process.argv[2] || '');
const checks = new h.Checks();
const work = h.mkTemp('mg-interop-folder-');

const TEXTS = [
  'Where is my refund for order 1234?',
  'Héllo WORLD, naïve café déjà vu!',
  'The app crashes again [MASK] please fix it',
  'unaffable antidisestablishmentarianism',
  '中文 and emoji 😀 tokens',
  '  tabs\tand\nnewlines  ',
  '[CLS] literal specials [SEP] inside text',
];

// modelgate's ids for TEXTS from `model` (a folder or a vocab.txt).
function modelgateIds(model) {
  const input = path.join(work, 'texts.jsonl');
  fs.writeFileSync(input, TEXTS.map((text) => JSON.stringify({ text })).join('\n') + '\n');
  const out = h.cliOk(binary, ['tokenize', '--model', model, '--input', input, '--fields', 'ids']);
  return out.trim().split('\n').map((line) => JSON.parse(line).ids);
}

function hfIds(tokenizerJson) {
  const tokenizer = clients.tokenizers.Tokenizer.fromFile(tokenizerJson);
  return Promise.all(TEXTS.map(async (text) => (await tokenizer.encode(text)).getIds()));
}

const data = path.join(work, 'train.jsonl');

async function main() {
  fs.writeFileSync(data, h.intentRows(48, 3).map((row) => JSON.stringify(row)).join('\n') + '\n');
  const model = path.join(work, 'model');
  h.cliOk(binary, ['train', '--train', data, '--init', 'tiny', '--vocab', h.UNCASED_VOCAB,
    '--epochs', '1', '--batch-size', '8', '--max-length', '32', '--threads', '2', '--out', model]);
  const want = modelgateIds(h.UNCASED_VOCAB);

  await checks.section('trained folder', async () => {
    for (const name of ['tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json']) {
      checks.check(`trained folder has ${name}`, fs.existsSync(path.join(model, name)));
    }
    const config = JSON.parse(fs.readFileSync(path.join(model, 'tokenizer_config.json'), 'utf8'));
    checks.check('tokenizer_config names BertTokenizer', config.tokenizer_class === 'BertTokenizer',
      config);
    checks.check('tokenizer_config lower-cases', config.do_lower_case === true, config);
    checks.check('tokenizer_config model_max_length', config.model_max_length > 0, config);
    const map = JSON.parse(fs.readFileSync(path.join(model, 'special_tokens_map.json'), 'utf8'));
    checks.check('special_tokens_map', map.cls_token === '[CLS]' && map.sep_token === '[SEP]' &&
      map.unk_token === '[UNK]' && map.pad_token === '[PAD]' && map.mask_token === '[MASK]', map);
    const tokenizerJson = JSON.parse(fs.readFileSync(path.join(model, 'tokenizer.json'), 'utf8'));
    checks.check('tokenizer.json: WordPiece, no padding or truncation',
      tokenizerJson.model.type === 'WordPiece' && tokenizerJson.padding === null &&
      tokenizerJson.truncation === null && tokenizerJson.post_processor.type ===
      'TemplateProcessing', tokenizerJson.post_processor);
    const got = await hfIds(path.join(model, 'tokenizer.json'));
    for (let i = 0; i < TEXTS.length; ++i) {
      checks.check(`HF tokenizers = modelgate: ${TEXTS[i]}`,
        JSON.stringify(got[i]) === JSON.stringify(want[i]), `${got[i]} vs ${want[i]}`);
    }
    const reread = modelgateIds(model);
    checks.check('modelgate reads the written folder to the same ids',
      JSON.stringify(reread) === JSON.stringify(want));
    // Pairs: [CLS] A [SEP] B [SEP] with type ids 0 then 1.
    const tokenizer = clients.tokenizers.Tokenizer.fromFile(path.join(model, 'tokenizer.json'));
    const pair = await tokenizer.encode('my refund', 'the invoice');
    const pairOut = h.cliOk(binary, ['tokenize', '--model', h.UNCASED_VOCAB, '--text', 'my refund',
      '--pair', 'the invoice', '--fields', 'ids,type_ids']);
    const pairWant = JSON.parse(pairOut.trim());
    checks.check('pair ids', JSON.stringify(pair.getIds()) === JSON.stringify(pairWant.ids));
    checks.check('pair type ids',
      JSON.stringify(pair.getTypeIds()) === JSON.stringify(pairWant.type_ids));
  });

  await checks.section('open release', async () => {
    const key = path.join(work, 'vendor');
    h.cliOk(binary, ['keygen', '--out', key]);
    const release = path.join(work, 'release');
    h.cliOk(binary, ['release', 'open', '--model', model, '--out', release, '--license',
      'Apache-2.0', '--sign', `${key}.key`]);
    const verify = h.cli(binary, ['verify', release, '--pub', `${key}.pub`]);
    checks.check('release verifies', verify.status === 0, verify.stderr);
    for (const name of ['tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json']) {
      const same = fs.existsSync(path.join(release, name)) &&
        fs.readFileSync(path.join(release, name)).equals(fs.readFileSync(path.join(model, name)));
      checks.check(`release keeps ${name} byte for byte`, same);
    }
    const got = await hfIds(path.join(release, 'tokenizer.json'));
    checks.check('HF tokenizers on the release = modelgate',
      JSON.stringify(got) === JSON.stringify(want));
    const card = fs.readFileSync(path.join(release, 'README.md'), 'utf8');
    checks.check('model card: AutoModelForSequenceClassification',
      card.includes('AutoModelForSequenceClassification.from_pretrained'), card);

    // A folder with only vocab.txt gets the files generated by the release.
    const bare = path.join(work, 'bare');
    fs.mkdirSync(bare);
    for (const name of ['config.json', 'model.safetensors', 'vocab.txt']) {
      fs.copyFileSync(path.join(model, name), path.join(bare, name));
    }
    const bareRelease = path.join(work, 'bare-release');
    h.cliOk(binary, ['release', 'open', '--model', bare, '--out', bareRelease, '--license', 'MIT',
      '--sign', `${key}.key`]);
    const bareVerify = h.cli(binary, ['verify', bareRelease, '--pub', `${key}.pub`]);
    checks.check('bare release verifies', bareVerify.status === 0, bareVerify.stderr);
    const bareIds = await hfIds(path.join(bareRelease, 'tokenizer.json'));
    checks.check('HF tokenizers on the bare release = modelgate',
      JSON.stringify(bareIds) === JSON.stringify(want));
    checks.check('bare release has special_tokens_map.json',
      fs.existsSync(path.join(bareRelease, 'special_tokens_map.json')));
  });

  await checks.section('fine-tuned from a base', async () => {
    const tuned = path.join(work, 'tuned');
    h.cliOk(binary, ['train', '--train', data, '--base', h.EMBED_MODEL, '--epochs', '1',
      '--batch-size', '8', '--max-length', '32', '--threads', '2', '--out', tuned]);
    for (const name of ['tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json']) {
      checks.check(`fine-tuned folder keeps the base's ${name} byte for byte`,
        fs.readFileSync(path.join(tuned, name)).equals(fs.readFileSync(path.join(h.EMBED_MODEL,
          name))));
    }
  });

  await checks.section('embedding model card', async () => {
    const key = path.join(work, 'vendor');
    const release = path.join(work, 'embed-release');
    h.cliOk(binary, ['release', 'open', '--model', h.EMBED_MODEL, '--out', release, '--license',
      'MIT', '--sign', `${key}.key`]);
    const card = fs.readFileSync(path.join(release, 'README.md'), 'utf8');
    checks.check('model card: AutoModel for an embedding model',
      card.includes('`AutoModel.from_pretrained') && !card.includes('ForSequenceClassification'),
      card);
    checks.check('embedding release keeps the base tokenizer.json byte for byte',
      fs.readFileSync(path.join(release, 'tokenizer.json'))
        .equals(fs.readFileSync(path.join(h.EMBED_MODEL, 'tokenizer.json'))));
  });
}

main().then(() => {
  fs.rmSync(work, { recursive: true, force: true });
  process.exit(checks.finish());
}, (error) => {
  console.log(`FAIL: ${error.stack || error}`);
  process.exit(1);
});
