/**
 * The promptls VS Code extension: starts `promptls serve` over stdio with vscode-languageclient (which
 * maps diagnostics, hovers, code lenses, code actions, inlay hints, completions and, since v10, LSP 3.18
 * inline completions), and adds the client-side parts: server discovery, restart, the status bar item fed
 * by `promptls/status`, output and trace channels, and rendering of server command results.
 */
import { randomBytes } from 'node:crypto';
import * as os from 'node:os';
import * as vscode from 'vscode';
import {
  DidChangeConfigurationNotification,
  type DocumentSelector,
  LanguageClient,
  type LanguageClientOptions,
  RevealOutputChannelOn,
  type ServerOptions,
  State,
  TransportKind,
} from 'vscode-languageclient/node';
import { explicitSettings } from './clientSettings';
import { describeCommandResult } from './commandResult';
import { registerEvalTests } from './evalTests';
import { activeInterpreter, onActiveInterpreterChange } from './pythonEnvironment';
import { type Resolution, resolveServer, type ServerCommand } from './resolveServer';
import { formatStatus, parseStatus, type StatusParams } from './status';
import { isExecutable, pythonHasPromptls, which } from './systemLookups';
import { parseUsage, usageHtml } from './usageChart';

const CLIENT_ID = 'promptls';
const RUN_PROMPT = 'promptls.runPrompt';
const SHOW_USAGE = 'promptls.showUsage';
const SERVER_COMMANDS_NEEDING_URI = new Set([RUN_PROMPT]);
/** Context keys (used in package.json `when` clauses) saying the running server provides a command. */
const SERVER_COMMAND_CONTEXT: Record<string, string> = {
  [RUN_PROMPT]: 'promptls.canRunPrompt',
  [SHOW_USAGE]: 'promptls.canShowUsage',
};

export const DOCUMENT_SELECTOR: DocumentSelector = [
  { language: 'dotprompt' },
  { language: 'prompty' },
  { language: 'jinja' },
  { language: 'handlebars' },
  { language: 'mustache' },
  { pattern: '**/*.prompt.md' },
  // LLM SDK call sites in source code and fine-tuning datasets (the server decides what it analyses;
  // `promptls.code.languages` and `promptls.datasets.*` turn these off).
  { language: 'python' },
  { language: 'typescript' },
  { language: 'typescriptreact' },
  { language: 'javascript' },
  { language: 'javascriptreact' },
  { language: 'jsonl' },
  { pattern: '**/*.jsonl' },
];

/** The server's usage page: a Markdown file in its scratch folder. The extension shows the usage as a chart
 * (a webview, from the command's answer) instead, and this Markdown rendered only when the answer has no rows. */
export function shownAsPreview(uri: string): boolean {
  return /\/usage-[^/]*\.md$/.test(uri);
}

let extension: PromptlsExtension | undefined;

class PromptlsExtension implements vscode.Disposable {
  private client: LanguageClient | undefined;
  private serverCommand: ServerCommand | undefined;
  // vscode-languageclient 10+ takes log output channels (levels, timestamps) for both.
  private readonly output = vscode.window.createOutputChannel('promptls', { log: true });
  private readonly trace = vscode.window.createOutputChannel('promptls (LSP trace)', { log: true });
  private readonly results = vscode.window.createOutputChannel('promptls: results');
  private readonly statusItem = vscode.window.createStatusBarItem('promptls.status', vscode.StatusBarAlignment.Right, 100);
  private readonly disposables: vscode.Disposable[] = [];
  private starting: Promise<void> | undefined;
  private canShowUsage = false;
  private lastStatus: StatusParams | undefined;
  private usagePanel: vscode.WebviewPanel | undefined;
  /** The usage Markdown page the server asked to show while `promptls.showUsage` ran (the fallback view). */
  private pendingUsagePage: string | undefined;

  constructor(private readonly context: vscode.ExtensionContext) {
    this.statusItem.name = 'promptls';
    this.disposables.push(
      this.output,
      this.trace,
      this.results,
      this.statusItem,
      vscode.commands.registerCommand('promptls.restart', () => this.restart()),
      vscode.commands.registerCommand('promptls.showOutput', () => this.output.show(true)),
      vscode.commands.registerCommand('promptls.showTrace', () => this.showTrace()),
      registerEvalTests(() => this.client),
      vscode.window.onDidChangeActiveTextEditor(() => this.renderStatus()),
      vscode.workspace.onDidChangeConfiguration((event) => {
        if (event.affectsConfiguration('promptls.server')) {
          void this.restart();
        }
      }),
    );
  }

  async start(): Promise<void> {
    this.starting = this.doStart();
    return this.starting;
  }

  private async doStart(): Promise<void> {
    const resolution = await this.resolve();
    if (!resolution.ok) {
      this.output.error(resolution.message);
      this.showStatusError('promptls server not found', resolution.message);
      const python = await activeInterpreter(vscode.workspace.workspaceFolders?.[0]?.uri);
      const install = python ? `Install into ${python}` : undefined;
      const buttons = [...(install ? [install] : []), 'Open Settings', 'Show Output'];
      const choice = await vscode.window.showErrorMessage(resolution.message, ...buttons);
      if (install && choice === install && python) {
        this.installInto(python);
      } else if (choice === 'Open Settings') {
        await vscode.commands.executeCommand('workbench.action.openSettings', 'promptls.server.path');
      } else if (choice === 'Show Output') {
        this.output.show(true);
      }
      return;
    }
    this.serverCommand = resolution.server;
    const { command, args, source } = resolution.server;
    this.output.info(`Starting ${command} ${args.join(' ')} (found via ${source})`);

    const serverOptions: ServerOptions = {
      command,
      args,
      transport: TransportKind.stdio,
      options: { env: { ...process.env, PYTHONUNBUFFERED: '1' } },
    };
    const clientOptions: LanguageClientOptions = {
      documentSelector: DOCUMENT_SELECTOR,
      outputChannel: this.output,
      traceOutputChannel: this.trace,
      revealOutputChannelOn: RevealOutputChannelOn.Never,
      initializationOptions: () => this.serverSettings(),
      synchronize: { configurationSection: 'promptls' },
      middleware: {
        executeCommand: async (commandId, commandArgs, next) => {
          const argsWithUri = this.withActiveDocument(commandId, commandArgs);
          const result = await next(commandId, argsWithUri);
          if (commandId === SHOW_USAGE) {
            await this.showUsage(result);
          }
          this.showResult(commandId, result);
          return result;
        },
        window: {
          // Markdown pages the server writes to show (usage, explanations, run results) open rendered.
          showDocument: async (params, token, next) => {
            if (shownAsPreview(params.uri)) {
              // Shown once the command answers: as a chart, or this page rendered if the answer has no rows.
              this.pendingUsagePage = params.uri;
              return { success: true };
            }
            return next(params, token);
          },
        },
        workspace: {
          // Only the settings the user set go to the server (see explicitSettings), on both the push
          // (didChangeConfiguration) and the pull (workspace/configuration) paths.
          didChangeConfiguration: async () => {
            await this.client?.sendNotification(DidChangeConfigurationNotification.type, {
              settings: { promptls: this.serverSettings() },
            });
          },
          configuration: async (params, token, next) => {
            const result = await next(params, token);
            if (!Array.isArray(result)) {
              return result;
            }
            return result.map((value, index) => {
              const item = params.items[index];
              return item?.section === 'promptls'
                ? this.serverSettings(item.scopeUri ? vscode.Uri.parse(item.scopeUri) : undefined)
                : value;
            });
          },
        },
      },
    };

    const client = new LanguageClient(CLIENT_ID, 'promptls', serverOptions, clientOptions);
    this.client = client;
    client.onNotification('promptls/status', (raw: unknown) => {
      const status = parseStatus(raw);
      if (!status) {
        return;
      }
      this.lastStatus = status;
      this.renderStatus();
    });
    client.onDidChangeState((event) => {
      if (event.newState === State.Stopped && this.client === client) {
        this.showStatusError('promptls stopped', 'The promptls server stopped. Click to restart it.', 'promptls.restart');
      }
    });
    this.statusItem.text = '$(sync~spin) promptls';
    this.statusItem.tooltip = `Starting ${command}`;
    this.statusItem.command = 'promptls.showOutput';
    this.statusItem.show();
    try {
      await client.start();
      // vscode-languageclient registers the commands the server lists (executeCommandProvider) as VS Code
      // commands; the menus and the status bar only offer those the running server has.
      const serverCommands = client.initializeResult?.capabilities.executeCommandProvider?.commands ?? [];
      for (const [id, key] of Object.entries(SERVER_COMMAND_CONTEXT)) {
        await vscode.commands.executeCommand('setContext', key, serverCommands.includes(id));
      }
      this.canShowUsage = serverCommands.includes(SHOW_USAGE);
      this.statusItem.text = '$(symbol-string) promptls';
      this.statusItem.tooltip = `promptls server running (${command})`;
      this.statusItem.command = this.statusClickCommand();
      this.renderStatus();
    } catch (error) {
      const message = `promptls: the server (${command} ${args.join(' ')}) failed to start: ${String(error)}`;
      this.output.error(message);
      this.showStatusError('promptls failed to start', message);
      void vscode.window.showErrorMessage(message, 'Show Output').then((choice) => {
        if (choice) {
          this.output.show(true);
        }
      });
    }
  }

  /** `pip install promptls` into the selected Python environment, in a terminal the user sees; then restart. */
  private installInto(python: string): void {
    const terminal = vscode.window.createTerminal({ name: 'promptls: install' });
    terminal.show();
    const quoted = python.includes(' ') ? `"${python}"` : python;
    terminal.sendText(`${quoted} -m pip install --upgrade promptls`);
    const watch = vscode.window.onDidCloseTerminal((closed) => {
      if (closed === terminal) {
        watch.dispose();
        void this.restart();
      }
    });
    this.disposables.push(watch);
    void vscode.window
      .showInformationMessage('promptls: when the install has finished, restart the server.', 'Restart Server')
      .then((choice) => {
        if (choice) {
          void this.restart();
        }
      });
  }

  /** The status bar for the active editor: hidden on files promptls does not analyse (a Markdown page), the
   * active prompt's figures only while that prompt is the active document. */
  private renderStatus(): void {
    const editor = vscode.window.activeTextEditor;
    // The LSP selector holds only language and pattern filters, which VS Code reads the same way.
    if (editor && vscode.languages.match(DOCUMENT_SELECTOR as vscode.DocumentSelector, editor.document) === 0) {
      this.statusItem.hide();
      return;
    }
    if (!this.lastStatus) {
      this.statusItem.show();
      return;
    }
    const view = formatStatus(this.lastStatus, editor?.document.uri.toString() ?? '');
    this.statusItem.text = view.text;
    this.statusItem.tooltip = view.tooltip;
    this.statusItem.command = this.statusClickCommand();
    this.statusItem.backgroundColor = undefined;
    this.statusItem.show();
  }

  /** The usage as a webview with charts (usageChart.ts), reused across invocations; the server's Markdown page
   * rendered when the answer is not one (an older server). */
  private async showUsage(result: unknown): Promise<void> {
    const page = this.pendingUsagePage;
    this.pendingUsagePage = undefined;
    const usage = parseUsage(result);
    if (!usage) {
      if (page) {
        await vscode.commands.executeCommand('markdown.showPreview', vscode.Uri.parse(page));
      }
      return;
    }
    if (!this.usagePanel) {
      const panel = vscode.window.createWebviewPanel('promptls.usage', 'promptls usage', vscode.ViewColumn.Active, {
        enableScripts: false,
        localResourceRoots: [],
      });
      panel.onDidDispose(() => {
        if (this.usagePanel === panel) {
          this.usagePanel = undefined;
        }
      });
      this.usagePanel = panel;
      this.disposables.push(panel);
    }
    const nonce = randomBytes(18).toString('base64url');
    this.usagePanel.webview.html = usageHtml(usage, nonce);
    this.usagePanel.reveal(undefined, false);
  }

  /** vscode-languageclient 10+ records the trace only while the trace channel's log level is Trace. */
  private showTrace(): void {
    this.trace.show(true);
    if (this.trace.logLevel !== vscode.LogLevel.Trace) {
      void vscode.window.showInformationMessage(
        'The LSP trace is recorded while this output channel\'s log level is Trace: use the gear in the ' +
          'Output panel (Set Log Level) to turn it on; promptls.trace.server sets the detail.',
      );
    }
  }

  private statusClickCommand(): string {
    return this.canShowUsage ? SHOW_USAGE : 'promptls.showOutput';
  }

  private serverSettings(scope?: vscode.Uri): Record<string, unknown> {
    const config = vscode.workspace.getConfiguration(undefined, scope);
    const keys = Object.keys(this.context.extension.packageJSON.contributes?.configuration?.properties ?? {});
    return explicitSettings(keys, (key) => config.inspect(key));
  }

  private async resolve(): Promise<Resolution> {
    const config = vscode.workspace.getConfiguration('promptls');
    const folder = vscode.workspace.workspaceFolders?.[0];
    return resolveServer({
      envCommand: process.env.PROMPTLS_SERVER_COMMAND,
      settingPath: config.get<string>('server.path'),
      extraArgs: config.get<string[]>('server.args') ?? [],
      pythonInterpreter: await activeInterpreter(folder?.uri),
      workspaceFolder: folder?.uri.fsPath,
      homeDir: os.homedir(),
      platform: process.platform,
      which: (name) => which(name),
      isExecutable,
      pythonHasPromptls,
      searchPath: process.env.PATH ?? '',
    });
  }

  /** Palette and editor-title invocations of run prompt carry no URI: use the active editor's. */
  private withActiveDocument(commandId: string, args: unknown[]): unknown[] {
    if (!SERVER_COMMANDS_NEEDING_URI.has(commandId) || args.length > 0) {
      return args;
    }
    const uri = vscode.window.activeTextEditor?.document.uri;
    return uri ? [uri.toString()] : args;
  }

  private showResult(commandId: string, result: unknown): void {
    const text = describeCommandResult(result);
    if (text === undefined) {
      return;
    }
    // Recorded, not revealed: the server may already show the result itself (run prompt opens a document).
    this.results.appendLine(`── ${commandId} ${new Date().toLocaleTimeString()}`);
    this.results.appendLine(text);
  }

  private showStatusError(text: string, tooltip: string, command = 'promptls.showOutput'): void {
    this.statusItem.text = `$(error) ${text}`;
    this.statusItem.tooltip = tooltip;
    this.statusItem.command = command;
    this.statusItem.backgroundColor = new vscode.ThemeColor('statusBarItem.errorBackground');
    this.statusItem.show();
  }

  async restart(): Promise<void> {
    await this.starting?.catch(() => undefined);
    const old = this.client;
    this.client = undefined;
    if (old) {
      this.output.info('Restarting the promptls server');
      await old.dispose().catch((error: unknown) => this.output.warn(`stop failed: ${String(error)}`));
    }
    await this.start();
  }

  get currentServer(): ServerCommand | undefined {
    return this.serverCommand;
  }

  async dispose(): Promise<void> {
    await this.client?.dispose().catch(() => undefined);
    this.client = undefined;
    for (const disposable of this.disposables) {
      disposable.dispose();
    }
  }
}

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  extension = new PromptlsExtension(context);
  context.subscriptions.push({ dispose: () => void extension?.dispose() });
  const interpreterWatch = await onActiveInterpreterChange(() => {
    // Only a server found through the Python environment (or not found at all) depends on it.
    const source = extension?.currentServer?.source;
    if (source === undefined || source === 'python-environment') {
      void extension?.restart();
    }
  });
  if (interpreterWatch) {
    context.subscriptions.push(interpreterWatch);
  }
  await extension.start();
}

export async function deactivate(): Promise<void> {
  await extension?.dispose();
  extension = undefined;
}
