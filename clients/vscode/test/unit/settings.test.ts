import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CLIENT_SETTINGS, explicitSettings, type InspectedValue } from '../../src/clientSettings';
import { describeCommandResult } from '../../src/commandResult';
import { settingsFromSchema } from '../../src/settingsSchema';

describe('settingsFromSchema', () => {
  // Shaped like a pydantic model_json_schema(): $defs, $ref, nullable anyOf, dict fields.
  const schema = {
    title: 'Settings',
    type: 'object',
    $defs: {
      Diagnostics: {
        title: 'Diagnostics',
        type: 'object',
        properties: {
          select: { title: 'Select', type: 'array', items: { type: 'string' }, default: [], description: 'Rules on.' },
          severity: { $ref: '#/$defs/Severity', default: 'warning' },
        },
      },
      Severity: { title: 'Severity', enum: ['error', 'warning', 'info'], type: 'string' },
      Provider: { type: 'object', properties: { baseUrl: { type: 'string' } } },
    },
    properties: {
      model: { anyOf: [{ type: 'string' }, { type: 'null' }], default: null, description: 'Default model.' },
      diagnostics: { $ref: '#/$defs/Diagnostics' },
      budget: {
        type: 'object',
        properties: { dailyUsd: { type: 'number', minimum: 0 } },
        default: { dailyUsd: 5 },
      },
      providers: {
        type: 'object',
        additionalProperties: { $ref: '#/$defs/Provider' },
        default: {},
        examples: [{}],
      },
      oldKey: { type: 'boolean', default: false, deprecated: true, description: 'Use model.' },
    },
  };

  test('flattens fixed objects into dotted keys and keeps dictionaries whole', () => {
    const result = settingsFromSchema(schema);
    assert.deepEqual(Object.keys(result).sort(), [
      'promptls.budget.dailyUsd',
      'promptls.diagnostics.select',
      'promptls.diagnostics.severity',
      'promptls.model',
      'promptls.oldKey',
      'promptls.providers',
    ]);
  });

  test('resolves $ref, collapses nullable anyOf and inherits parent defaults', () => {
    const result = settingsFromSchema(schema);
    assert.deepEqual(result['promptls.model'], { type: ['string', 'null'], default: null, description: 'Default model.' });
    assert.deepEqual(result['promptls.diagnostics.severity'], {
      type: 'string',
      enum: ['error', 'warning', 'info'],
      default: 'warning',
    });
    assert.deepEqual(result['promptls.budget.dailyUsd'], { type: 'number', minimum: 0, default: 5 });
    assert.deepEqual(result['promptls.providers'], {
      type: 'object',
      default: {},
      additionalProperties: { type: 'object', properties: { baseUrl: { type: 'string' } } },
    });
    assert.equal(result['promptls.oldKey'].markdownDeprecationMessage, 'Use model.');
  });

  test('rejects a schema whose root is not an object', () => {
    assert.throws(() => settingsFromSchema({ type: 'string' }), /root must be an object/);
    assert.throws(
      () => settingsFromSchema({ type: 'object', properties: { a: { $ref: '#/$defs/Missing' } } }),
      /unresolved \$ref/,
    );
  });
});

describe('settings sent to the server', () => {
  const inspected: Record<string, InspectedValue> = {
    'promptls.server.path': { globalValue: '/x/promptls' },
    'promptls.trace.server': { globalValue: 'verbose' },
    'promptls.model': { globalValue: 'openai/gpt-4o', workspaceValue: 'anthropic/claude-sonnet-4' },
    'promptls.router.completion': { workspaceFolderValue: ['fake'], globalValue: ['openai'] },
    'promptls.router.max_attempts': { globalValue: 5 },
    'promptls.cost.per-call-budget-usd': {},
    'promptls.select': { globalValue: ['VR'] },
  };
  const sent = explicitSettings(Object.keys(inspected), (key) => inspected[key]);

  test('only what the user set, nested, most specific scope first', () => {
    assert.deepEqual(sent, {
      model: 'anthropic/claude-sonnet-4',
      router: { completion: ['fake'], max_attempts: 5 },
      select: ['VR'],
    });
  });

  test('client-only keys and unknown prefixes are never sent', () => {
    assert.equal('server' in sent, false);
    assert.equal('trace' in sent, false);
    assert.deepEqual(explicitSettings(['editor.fontSize'], () => ({ globalValue: 12 })), {});
  });

  test('every client setting is under promptls.', () => {
    for (const key of Object.keys(CLIENT_SETTINGS)) {
      assert.match(key, /^promptls\.[a-z]+\.[a-z]+$/);
    }
  });
});

describe('describeCommandResult', () => {
  test('renders strings, text fields and other JSON', () => {
    assert.equal(describeCommandResult(undefined), undefined);
    assert.equal(describeCommandResult(null), undefined);
    assert.equal(describeCommandResult('hello'), 'hello');
    assert.equal(describeCommandResult({ text: 'answer', usage: {} }), 'answer');
    assert.equal(describeCommandResult({ totalUsd: 1 }), '{\n  "totalUsd": 1\n}');
  });
});
