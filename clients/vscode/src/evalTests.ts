/**
 * VS Code's Testing view for prompt tests: a test controller that lists the workspace's prompts and their cases
 * (asked from the server with `promptls/evalCases`) and runs them through the server command `promptls.eval`,
 * reporting pass or fail per case with the failing assertions' messages at their lines. Cancelling a run cancels
 * the server request (and so the model calls). The shaping of the server's answers is in `evalModel.ts`.
 */

import * as vscode from 'vscode';
import type { LanguageClient } from 'vscode-languageclient/node';
import { type EvalPrompt, outcomesFromRun, promptsFromCases, promptsToRun } from './evalModel';

export function registerEvalTests(getClient: () => LanguageClient | undefined): vscode.Disposable {
  const controller = vscode.tests.createTestController('promptls.eval', 'promptls prompt tests');
  let prompts: EvalPrompt[] = [];

  const refresh = async (): Promise<void> => {
    const client = getClient();
    if (!client || !client.isRunning()) {
      return;
    }
    prompts = promptsFromCases(await client.sendRequest('promptls/evalCases', {}));
    controller.items.replace(prompts.map((p) => {
      const item = controller.createTestItem(p.id, p.label, vscode.Uri.parse(p.uri));
      for (const c of p.cases) {
        const child = controller.createTestItem(c.id, c.label, vscode.Uri.parse(c.uri));
        child.range = new vscode.Range(c.line - 1, 0, c.line - 1, 0);
        item.children.add(child);
      }
      return item;
    }));
  };

  controller.resolveHandler = async (item) => {
    if (!item) {
      await refresh();
    }
  };
  controller.refreshHandler = async () => refresh();

  const run = async (request: vscode.TestRunRequest, token: vscode.CancellationToken): Promise<void> => {
    const client = getClient();
    const testRun = controller.createTestRun(request);
    try {
      if (!client || !client.isRunning()) {
        testRun.appendOutput('promptls: the server is not running\r\n');
        return;
      }
      if (prompts.length === 0) {
        await refresh();
      }
      const requested = (request.include ?? []).map((item) => item.id);
      const excluded = new Set((request.exclude ?? []).map((item) => item.id));
      for (const prompt of promptsToRun(requested, prompts)) {
        if (token.isCancellationRequested) {
          break;
        }
        const parent = controller.items.get(prompt.id);
        const cases = prompt.cases.filter((c) => !excluded.has(c.id)
          && (requested.length === 0 || requested.includes(prompt.id) || requested.includes(c.id)));
        const items = cases.map((c) => parent?.children.get(c.id)).filter((i): i is vscode.TestItem => !!i);
        items.forEach((item) => testRun.started(item));
        let answer: unknown;
        try {
          answer = await client.sendRequest('workspace/executeCommand',
            { command: 'promptls.eval', arguments: [prompt.uri] }, token);
        } catch (error) {
          items.forEach((item) => testRun.errored(item, new vscode.TestMessage(String(error))));
          continue;
        }
        const outcomes = outcomesFromRun(answer);
        const failure = (answer as { error?: unknown } | undefined)?.error;
        for (const item of items) {
          const outcome = outcomes.get(item.id);
          if (!outcome) {
            testRun.errored(item, new vscode.TestMessage(typeof failure === 'string' ? failure : 'not run'));
          } else if (outcome.passed) {
            testRun.passed(item, outcome.durationMs);
          } else {
            testRun.failed(item, outcome.messages.map((m) => {
              const message = new vscode.TestMessage(m.text);
              if (m.uri && m.line !== undefined) {
                message.location = new vscode.Location(vscode.Uri.parse(m.uri), new vscode.Position(m.line - 1, 0));
              }
              return message;
            }), outcome.durationMs);
          }
        }
      }
    } finally {
      testRun.end();
    }
  };
  controller.createRunProfile('Run', vscode.TestRunProfileKind.Run, (request, token) => run(request, token), true);

  const watcher = vscode.workspace.createFileSystemWatcher('**/{*.tests.yaml,*.tests.yml,promptfooconfig.yaml,promptfooconfig.yml}');
  const changed = () => void refresh().catch(() => undefined);
  return vscode.Disposable.from(controller, watcher, watcher.onDidCreate(changed), watcher.onDidChange(changed),
    watcher.onDidDelete(changed));
}
